using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// f32 reductions with a reduction order fixed by the length alone (never by alignment or by what else is in a
/// batch), which is what makes the CPU backend batch-invariant.
/// </summary>
internal static unsafe partial class SimdKernels
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

    /// <summary>
    /// y[r] = Dot(a, rows + r·n, n) · scale for r in [0, count): each product exactly <see cref="Dot"/>'s, without a
    /// call per row (attention's scores, where n is a head's 64 or 128 elements and a call was a large share of a dot's
    /// cost). Where n is whole vectors, sixteen (or eight) rows' accumulators are summed together by a transposing
    /// reduction (<see cref="SumLanes16"/>) that adds the same lanes in the same tree as <see cref="Sum512"/> does for one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRows(float* a, float* rows, int count, int n, float scale, float* y)
    {
        var r = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && n % 16 == 0)
        {
            for (; r + 16 <= count; r += 16)
            {
                (SumLanes16(a, rows + ((long)r * n), n, 16) * scale).Store(y + r);
            }

            var last = r < count ? SumLanes16(a, rows + ((long)r * n), n, count - r) * scale : default;
            for (var j = 0; r < count; r++, j++)
            {
                y[r] = last.GetElement(j);
            }
        }
        else if (!Vector512.IsHardwareAccelerated && Avx.IsSupported && n % 8 == 0)
        {
            for (; r + 8 <= count; r += 8)
            {
                (SumLanes8(a, rows + ((long)r * n), n, 8) * scale).Store(y + r);
            }

            var last = r < count ? SumLanes8(a, rows + ((long)r * n), n, count - r) * scale : default;
            for (var j = 0; r < count; r++, j++)
            {
                y[r] = last.GetElement(j);
            }
        }
        else if (Vector512.IsHardwareAccelerated)
        {
            for (; r < count; r++, rows += n)
            {
                y[r] = Dot512Core(a, rows, n) * scale;
            }
        }
        else
        {
            for (; r < count; r++, rows += n)
            {
                y[r] = Dot256Core(a, rows, n) * scale;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot512(float* a, float* b, int n) => Dot512Core(a, b, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot512Core(float* a, float* b, int n)
    {
        var sum = Sum512(Accumulate512(a, b, n));
        for (var i = n & ~15; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
    }

    /// <summary>The lane-wise products of a and b over n's whole vectors: four interleaved accumulators, then the vector tail, added pairwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Accumulate512(float* a, float* b, int n)
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

        return (acc0 + acc1) + (acc2 + acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot256(float* a, float* b, int n) => Dot256Core(a, b, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot256Core(float* a, float* b, int n)
    {
        var sum = Sum256(Accumulate256(a, b, n));
        for (var i = n & ~7; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        }

        return sum;
    }

    /// <summary>The 256-bit <see cref="Accumulate512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate256(float* a, float* b, int n)
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

        return (acc0 + acc1) + (acc2 + acc3);
    }

    /// <summary>
    /// y += Σ_r w[r]·rows[r] (rows n apart): per element, one fused multiply-add per row in row order, so an element's
    /// value depends neither on n nor on the vector width. Sixty-four elements of y stay in registers across the rows,
    /// instead of a load and a store per row (attention's weighted values).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaledRows(float* y, float* rows, float* w, int count, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 64 <= n; i += 64)
            {
                var (y0, y1, y2, y3) = (Vector512.Load(y + i), Vector512.Load(y + i + 16), Vector512.Load(y + i + 32), Vector512.Load(y + i + 48));
                var x = rows + i;
                for (var r = 0; r < count; r++, x += n)
                {
                    var vs = Vector512.Create(w[r]);
                    y0 = Vector512.FusedMultiplyAdd(Vector512.Load(x), vs, y0);
                    y1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + 16), vs, y1);
                    y2 = Vector512.FusedMultiplyAdd(Vector512.Load(x + 32), vs, y2);
                    y3 = Vector512.FusedMultiplyAdd(Vector512.Load(x + 48), vs, y3);
                }

                y0.Store(y + i);
                y1.Store(y + i + 16);
                y2.Store(y + i + 32);
                y3.Store(y + i + 48);
            }

            for (; i + 16 <= n; i += 16)
            {
                var y0 = Vector512.Load(y + i);
                var x = rows + i;
                for (var r = 0; r < count; r++, x += n)
                {
                    y0 = Vector512.FusedMultiplyAdd(Vector512.Load(x), Vector512.Create(w[r]), y0);
                }

                y0.Store(y + i);
            }
        }
        else
        {
            for (; i + 32 <= n; i += 32)
            {
                var (y0, y1, y2, y3) = (Vector256.Load(y + i), Vector256.Load(y + i + 8), Vector256.Load(y + i + 16), Vector256.Load(y + i + 24));
                var x = rows + i;
                for (var r = 0; r < count; r++, x += n)
                {
                    var vs = Vector256.Create(w[r]);
                    y0 = Vector256.FusedMultiplyAdd(Vector256.Load(x), vs, y0);
                    y1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + 8), vs, y1);
                    y2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + 16), vs, y2);
                    y3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + 24), vs, y3);
                }

                y0.Store(y + i);
                y1.Store(y + i + 8);
                y2.Store(y + i + 16);
                y3.Store(y + i + 24);
            }

            for (; i + 8 <= n; i += 8)
            {
                var y0 = Vector256.Load(y + i);
                var x = rows + i;
                for (var r = 0; r < count; r++, x += n)
                {
                    y0 = Vector256.FusedMultiplyAdd(Vector256.Load(x), Vector256.Create(w[r]), y0);
                }

                y0.Store(y + i);
            }
        }

        for (; i < n; i++)
        {
            var x = rows + i;
            for (var r = 0; r < count; r++, x += n)
            {
                y[i] = MathF.FusedMultiplyAdd(*x, w[r], y[i]);
            }
        }
    }
}
