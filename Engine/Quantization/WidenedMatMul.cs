using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// F32, F16 and BF16 weights times f32 activations, for every <see cref="KernelTier"/>. Every output (t, r) is
/// the same sequence whatever the kernel, batch or chunk: one vector accumulator over the row in order
/// (<c>acc = fma(w, a, acc)</c>, a vector of the tier's width at a time), its lanes summed, then the scalar tail.
/// F16/BF16 weights convert the same way in registers (decode) and into a panel first (prefill), so both give the
/// same floats (exact for every finite weight; see <see cref="IFloatLanes{TVector}.LoadHalf"/>).
/// <para>
/// Decode (fewer than <see cref="BlockActivations"/> activations) streams the stored rows eight at a time, converting
/// in registers and prefetching the next eight (WidenedMatMul.Stream.cs). Prefill
/// converts <see cref="BlockRows"/> rows once into an f32 panel and runs a register-blocked tile of
/// <see cref="BlockRows"/> rows × <see cref="BlockActivations"/> activations over the whole activation tile, so each
/// weight vector loaded feeds four multiply-adds and each activation vector two or four.
/// </para>
/// </summary>
internal static unsafe partial class WidenedMatMul
{
    /// <summary>Activations per register tile.</summary>
    public const int BlockActivations = 4;

    /// <summary>
    /// Weight rows per register tile: four where there are 32 vector registers (AVX-512, ARM64), two where there
    /// are 16 (4 × 4 accumulators plus four weight vectors would spill).
    /// </summary>
    public static int BlockRows { get; } = KernelTiers.Current == KernelTier.Avx512 || AdvSimd.Arm64.IsSupported ? 4 : 2;

    /// <summary>Whether <paramref name="type"/> is one of the float formats these kernels take.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or CheckpointTypes.Fp8Rows;

    /// <summary>
    /// Rows [first, last) of a <paramref name="type"/> matrix of <paramref name="columns"/> columns against
    /// <paramref name="count"/> activation rows. // weights: row 0, rows <paramref name="rowBytes"/> apart;
    /// a (count, aStride floats); y (count, yStride): element (t, r) at y[t·yStride + r]; panel: scratch of
    /// <see cref="BlockRows"/> · columns floats (unused for F32); scaled: these activation rows as
    /// <see cref="ScaleActivations"/> stored them (count, columns), or null to scale them here when the type needs it.
    /// </summary>
    public static void Rows(
        GgmlType type, byte* weights, long rowBytes, int columns, int first, int last,
        float* a, int aStride, int count, float* y, int yStride, float* panel, float* scaled = null)
    {
        switch (KernelTiers.Current)
        {
            case KernelTier.Avx512:
                Rows<Lanes512, Vector512<float>>(type, weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel, scaled);
                break;
            case KernelTier.Avx2 or KernelTier.AvxVnni:
                Rows<Lanes256, Vector256<float>>(type, weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel, scaled);
                break;
            default:
                Rows<Lanes128, Vector128<float>>(type, weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel, scaled);
                break;
        }
    }

    /// <summary>One <paramref name="type"/> row times one activation row: the sequence every output of <see cref="Rows"/> follows.</summary>
    public static float Dot(GgmlType type, byte* w, float* a, int n) => KernelTiers.Current switch
    {
        KernelTier.Avx512 => Dot<Lanes512, Vector512<float>>(type, w, a, n),
        KernelTier.Avx2 or KernelTier.AvxVnni => Dot<Lanes256, Vector256<float>>(type, w, a, n),
        _ => Dot<Lanes128, Vector128<float>>(type, w, a, n),
    };

    private static float Dot<TL, TV>(GgmlType type, byte* w, float* a, int n)
        where TL : IFloatLanes<TV>
        where TV : struct => type switch
        {
            GgmlType.F16 => One<TL, TV, F16Elements>(w, a, n),
            GgmlType.BF16 => One<TL, TV, BF16Elements>(w, a, n),
            _ => One<TL, TV, F32Elements>(w, a, n),
        };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TL, TV>(
        GgmlType type, byte* weights, long rowBytes, int columns, int first, int last,
        float* a, int aStride, int count, float* y, int yStride, float* panel, float* scaled)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        switch (type)
        {
            case GgmlType.F16 when count < BlockActivations:
                StreamHalf<TL, TV>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, scaled);
                break;
            case GgmlType.F16:
                Tiles<TL, TV, F16Elements>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel);
                break;
            case GgmlType.BF16 when count < BlockActivations:
                Stream<TL, TV, BF16Elements>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride);
                break;
            case GgmlType.BF16:
                Tiles<TL, TV, BF16Elements>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel);
                break;
            case CheckpointTypes.Fp8Rows:
                Fp8<TL, TV>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel, scaled);
                break;
            case GgmlType.F32 when count < BlockActivations:
                Stream<TL, TV, F32Elements>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride);
                break;
            default:
                Tiles<TL, TV, F32Elements>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride, panel);
                break;
        }
    }

    /// <summary>
    /// Prefill: <see cref="BlockRows"/> rows at a time converted into the panel (F32 rows are read in place), then
    /// register tiles over the activations, then single outputs for the ragged edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tiles<TL, TV, TW>(
        byte* weights, long rowBytes, int columns, int first, int last,
        float* a, int aStride, int count, float* y, int yStride, float* panel)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        var blockRows = BlockRows;
        for (var r = first; r < last; r += blockRows)
        {
            var n = Math.Min(blockRows, last - r);
            byte* rows;
            long stride;
            if (typeof(TW) == typeof(F32Elements))
            {
                rows = weights + (r * rowBytes);
                stride = rowBytes;
            }
            else
            {
                stride = (long)columns * sizeof(float);
                for (var i = 0; i < n; i++)
                {
                    Convert<TL, TV, TW>(weights + ((r + i) * rowBytes), panel + ((long)i * columns), columns);
                }

                rows = (byte*)panel;
            }

            var t = 0;
            for (; n == blockRows && t + BlockActivations <= count; t += BlockActivations)
            {
                var at = a + ((long)t * aStride);
                var yt = y + ((long)t * yStride) + r;
                if (blockRows == 4)
                {
                    Tile4x4<TL, TV>(rows, stride, at, aStride, columns, yt, yStride);
                }
                else
                {
                    Tile2x4<TL, TV>(rows, stride, at, aStride, columns, yt, yStride);
                }
            }

            for (; t < count; t++)
            {
                for (var i = 0; i < n; i++)
                {
                    y[((long)t * yStride) + r + i] = One<TL, TV, F32Elements>(rows + (i * stride), a + ((long)t * aStride), columns);
                }
            }
        }
    }

    /// <summary>A stored row to f32 with the very conversion the streaming kernels do in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convert<TL, TV, TW>(byte* source, float* destination, int n)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        var i = 0;
        for (; i + TL.Count <= n; i += TL.Count)
        {
            TL.Store(TW.Load<TL, TV>(source, i), destination + i);
        }

        for (; i < n; i++)
        {
            destination[i] = TW.Element(source, i);
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

    /// <summary>One row times one activation: the reference sequence every tile repeats per output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float One<TL, TV, TW>(byte* w, float* a, int k)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        var acc = TL.Zero;
        var i = 0;
        for (; i + TL.Count <= k; i += TL.Count)
        {
            acc = TL.MultiplyAdd(TW.Load<TL, TV>(w, i), TL.Load(a + i), acc);
        }

        return Finish<TL, TV, TW>(acc, w, a, i, k);
    }

    /// <summary>
    /// Four f32 rows (<paramref name="stride"/> bytes apart) times four activations (<paramref name="aStride"/>
    /// floats apart): sixteen accumulators, each weight vector used four times. // y (4, yStride), element (t, r) at y[t·yStride + r]
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<TL, TV>(byte* w, long stride, float* a, int aStride, int k, float* y, int yStride)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        float* w0 = (float*)w, w1 = (float*)(w + stride), w2 = (float*)(w + (2 * stride)), w3 = (float*)(w + (3 * stride));
        float* a0 = a, a1 = a + aStride, a2 = a + (2L * aStride), a3 = a + (3L * aStride);
        TV c00 = TL.Zero, c01 = TL.Zero, c02 = TL.Zero, c03 = TL.Zero;
        TV c10 = TL.Zero, c11 = TL.Zero, c12 = TL.Zero, c13 = TL.Zero;
        TV c20 = TL.Zero, c21 = TL.Zero, c22 = TL.Zero, c23 = TL.Zero;
        TV c30 = TL.Zero, c31 = TL.Zero, c32 = TL.Zero, c33 = TL.Zero;
        var i = 0;
        for (; i + TL.Count <= k; i += TL.Count)
        {
            var v0 = TL.Load(w0 + i);
            var v1 = TL.Load(w1 + i);
            var v2 = TL.Load(w2 + i);
            var v3 = TL.Load(w3 + i);
            var x = TL.Load(a0 + i);
            c00 = TL.MultiplyAdd(v0, x, c00);
            c10 = TL.MultiplyAdd(v1, x, c10);
            c20 = TL.MultiplyAdd(v2, x, c20);
            c30 = TL.MultiplyAdd(v3, x, c30);
            x = TL.Load(a1 + i);
            c01 = TL.MultiplyAdd(v0, x, c01);
            c11 = TL.MultiplyAdd(v1, x, c11);
            c21 = TL.MultiplyAdd(v2, x, c21);
            c31 = TL.MultiplyAdd(v3, x, c31);
            x = TL.Load(a2 + i);
            c02 = TL.MultiplyAdd(v0, x, c02);
            c12 = TL.MultiplyAdd(v1, x, c12);
            c22 = TL.MultiplyAdd(v2, x, c22);
            c32 = TL.MultiplyAdd(v3, x, c32);
            x = TL.Load(a3 + i);
            c03 = TL.MultiplyAdd(v0, x, c03);
            c13 = TL.MultiplyAdd(v1, x, c13);
            c23 = TL.MultiplyAdd(v2, x, c23);
            c33 = TL.MultiplyAdd(v3, x, c33);
        }

        long s1 = yStride, s2 = 2L * yStride, s3 = 3L * yStride;
        y[0] = Finish<TL, TV, F32Elements>(c00, (byte*)w0, a0, i, k);
        y[1] = Finish<TL, TV, F32Elements>(c10, (byte*)w1, a0, i, k);
        y[2] = Finish<TL, TV, F32Elements>(c20, (byte*)w2, a0, i, k);
        y[3] = Finish<TL, TV, F32Elements>(c30, (byte*)w3, a0, i, k);
        y[s1] = Finish<TL, TV, F32Elements>(c01, (byte*)w0, a1, i, k);
        y[s1 + 1] = Finish<TL, TV, F32Elements>(c11, (byte*)w1, a1, i, k);
        y[s1 + 2] = Finish<TL, TV, F32Elements>(c21, (byte*)w2, a1, i, k);
        y[s1 + 3] = Finish<TL, TV, F32Elements>(c31, (byte*)w3, a1, i, k);
        y[s2] = Finish<TL, TV, F32Elements>(c02, (byte*)w0, a2, i, k);
        y[s2 + 1] = Finish<TL, TV, F32Elements>(c12, (byte*)w1, a2, i, k);
        y[s2 + 2] = Finish<TL, TV, F32Elements>(c22, (byte*)w2, a2, i, k);
        y[s2 + 3] = Finish<TL, TV, F32Elements>(c32, (byte*)w3, a2, i, k);
        y[s3] = Finish<TL, TV, F32Elements>(c03, (byte*)w0, a3, i, k);
        y[s3 + 1] = Finish<TL, TV, F32Elements>(c13, (byte*)w1, a3, i, k);
        y[s3 + 2] = Finish<TL, TV, F32Elements>(c23, (byte*)w2, a3, i, k);
        y[s3 + 3] = Finish<TL, TV, F32Elements>(c33, (byte*)w3, a3, i, k);
    }

    /// <summary>Two f32 rows times four activations: eight accumulators, for tiers with 16 vector registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4<TL, TV>(byte* w, long stride, float* a, int aStride, int k, float* y, int yStride)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        float* w0 = (float*)w, w1 = (float*)(w + stride);
        float* a0 = a, a1 = a + aStride, a2 = a + (2L * aStride), a3 = a + (3L * aStride);
        TV c00 = TL.Zero, c01 = TL.Zero, c02 = TL.Zero, c03 = TL.Zero;
        TV c10 = TL.Zero, c11 = TL.Zero, c12 = TL.Zero, c13 = TL.Zero;
        var i = 0;
        for (; i + TL.Count <= k; i += TL.Count)
        {
            var v0 = TL.Load(w0 + i);
            var v1 = TL.Load(w1 + i);
            var x = TL.Load(a0 + i);
            c00 = TL.MultiplyAdd(v0, x, c00);
            c10 = TL.MultiplyAdd(v1, x, c10);
            x = TL.Load(a1 + i);
            c01 = TL.MultiplyAdd(v0, x, c01);
            c11 = TL.MultiplyAdd(v1, x, c11);
            x = TL.Load(a2 + i);
            c02 = TL.MultiplyAdd(v0, x, c02);
            c12 = TL.MultiplyAdd(v1, x, c12);
            x = TL.Load(a3 + i);
            c03 = TL.MultiplyAdd(v0, x, c03);
            c13 = TL.MultiplyAdd(v1, x, c13);
        }

        long s1 = yStride, s2 = 2L * yStride, s3 = 3L * yStride;
        y[0] = Finish<TL, TV, F32Elements>(c00, (byte*)w0, a0, i, k);
        y[1] = Finish<TL, TV, F32Elements>(c10, (byte*)w1, a0, i, k);
        y[s1] = Finish<TL, TV, F32Elements>(c01, (byte*)w0, a1, i, k);
        y[s1 + 1] = Finish<TL, TV, F32Elements>(c11, (byte*)w1, a1, i, k);
        y[s2] = Finish<TL, TV, F32Elements>(c02, (byte*)w0, a2, i, k);
        y[s2 + 1] = Finish<TL, TV, F32Elements>(c12, (byte*)w1, a2, i, k);
        y[s3] = Finish<TL, TV, F32Elements>(c03, (byte*)w0, a3, i, k);
        y[s3 + 1] = Finish<TL, TV, F32Elements>(c13, (byte*)w1, a3, i, k);
    }
}
