using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// f32 reductions with a reduction order fixed by the length alone (never by alignment or by what else is in a
/// batch), which is what makes the CPU backend batch-invariant.
/// </summary>
internal static unsafe class SimdKernels
{
    /// <summary>Σ a[i]·b[i]: four interleaved vector accumulators, then the vector tail, then the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            return Dot512(a, b, n);
        }

        return Dot256(a, b, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot512(float* a, float* b, int n)
    {
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        var acc2 = Vector512<float>.Zero;
        var acc3 = Vector512<float>.Zero;
        var i = 0;
        for (; i + 64 <= n; i += 64)
        {
            acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), acc1);
            acc2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), acc2);
            acc3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), acc3);
        }

        for (; i + 16 <= n; i += 16)
        {
            acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
        }

        var sum = Vector512.Sum((acc0 + acc1) + (acc2 + acc3));
        for (; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot256(float* a, float* b, int n)
    {
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var acc2 = Vector256<float>.Zero;
        var acc3 = Vector256<float>.Zero;
        var i = 0;
        for (; i + 32 <= n; i += 32)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
            acc2 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16), acc2);
            acc3 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24), acc3);
        }

        for (; i + 8 <= n; i += 8)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
        }

        var sum = Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        for (; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
    }

    /// <summary>y += s·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddScaled(float* y, float* x, float s, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i + 16 <= n; i += 16)
            {
                Vector512.FusedMultiplyAdd(Vector512.Load(x + i), vs, Vector512.Load(y + i)).Store(y + i);
            }
        }
        else
        {
            var vs = Vector256.Create(s);
            for (; i + 8 <= n; i += 8)
            {
                Vector256.FusedMultiplyAdd(Vector256.Load(x + i), vs, Vector256.Load(y + i)).Store(y + i);
            }
        }

        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(x[i], s, y[i]);
        }
    }
}
