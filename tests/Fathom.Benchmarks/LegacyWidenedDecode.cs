using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Benchmarks;

/// <summary>
/// The F16/BF16 batch-1 decode kernel as it was before #21 (four rows at a time, one chain each, no prefetch), kept
/// for <see cref="WidenedDecodeAb"/>'s in-process A/B. Driven in the same 64-row items as the engine's.
/// </summary>
internal static unsafe class LegacyWidenedDecode
{
    [ThreadStatic]
    private static float[]? t_scaled;

    public static void Rows(GgmlType type, byte* weights, long rowBytes, int columns, int first, int last, float* a, float* y)
    {
        for (var block = first; block < last; block += 64)
        {
            var end = Math.Min(last, block + 64);
            switch (KernelTiers.Current)
            {
                case KernelTier.Avx512: Block<Lanes512, Vector512<float>>(type, weights, rowBytes, columns, block, end, a, y); break;
                case KernelTier.Avx2 or KernelTier.AvxVnni: Block<Lanes256, Vector256<float>>(type, weights, rowBytes, columns, block, end, a, y); break;
                default: Block<Lanes128, Vector128<float>>(type, weights, rowBytes, columns, block, end, a, y); break;
            }
        }
    }

    private static void Block<TL, TV>(GgmlType type, byte* weights, long rowBytes, int columns, int first, int last, float* a, float* y)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        if (type == GgmlType.BF16)
        {
            Stream<TL, TV, BF16Elements>(weights, rowBytes, columns, first, last, a, y);
            return;
        }

        var scaled = t_scaled is { } buffer && buffer.Length >= columns ? buffer : t_scaled = GC.AllocateUninitializedArray<float>(columns, pinned: true);
        fixed (float* s = scaled)
        {
            for (var i = 0; i < columns; i++)
            {
                s[i] = a[i] * HalfBits.Scale;
            }

            Stream<TL, TV, F16ScaledElements>(weights, rowBytes, columns, first, last, s, y);
        }
    }

    private static void Stream<TL, TV, TW>(byte* weights, long rowBytes, int columns, int first, int last, float* a, float* y)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        var r = first;
        for (; r + 4 <= last; r += 4)
        {
            Rows4x1<TL, TV, TW>(weights + (r * rowBytes), rowBytes, a, columns, y + r);
        }

        for (; r < last; r++)
        {
            var w = weights + (r * rowBytes);
            var acc = TL.Zero;
            var i = 0;
            for (; i + TL.Count <= columns; i += TL.Count)
            {
                acc = TL.MultiplyAdd(TW.Load<TL, TV>(w, i), TL.Load(a + i), acc);
            }

            y[r] = Finish<TL, TV, TW>(acc, w, a, i, columns);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TL, TV, TW>(TV acc, byte* w, float* a, int i, int k)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        var sum = TL.Sum(acc);
        for (; i < k; i++)
        {
            sum = MathF.FusedMultiplyAdd(TW.Element(w, i), a[i], sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows4x1<TL, TV, TW>(byte* w, long stride, float* a, int k, float* y)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        byte* w0 = w, w1 = w + stride, w2 = w + (2 * stride), w3 = w + (3 * stride);
        TV acc0 = TL.Zero, acc1 = TL.Zero, acc2 = TL.Zero, acc3 = TL.Zero;
        var i = 0;
        for (; i + TL.Count <= k; i += TL.Count)
        {
            var x = TL.Load(a + i);
            acc0 = TL.MultiplyAdd(TW.Load<TL, TV>(w0, i), x, acc0);
            acc1 = TL.MultiplyAdd(TW.Load<TL, TV>(w1, i), x, acc1);
            acc2 = TL.MultiplyAdd(TW.Load<TL, TV>(w2, i), x, acc2);
            acc3 = TL.MultiplyAdd(TW.Load<TL, TV>(w3, i), x, acc3);
        }

        y[0] = Finish<TL, TV, TW>(acc0, w0, a, i, k);
        y[1] = Finish<TL, TV, TW>(acc1, w1, a, i, k);
        y[2] = Finish<TL, TV, TW>(acc2, w2, a, i, k);
        y[3] = Finish<TL, TV, TW>(acc3, w3, a, i, k);
    }
}
