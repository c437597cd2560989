using System.Runtime.CompilerServices;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Decode (batch 1 to 3) and the FP8 rows. Decode is memory-bound: each weight byte is read once, converted in
/// registers, and met by one activation. Eight rows go at a time (eight independent accumulator chains, one per row,
/// in the order every kernel follows): eight concurrent streams give the hardware prefetchers enough to keep memory
/// busy. An earlier version also prefetched the next eight rows one line per row per step in software; dropping the
/// hint made 1B-shape decode on a Zen 4 faster (F16 8.4/8.9 → 9.8/10.3 tok/s on one thread, 15.1/11.3 → 18.6/16.8 on
/// two; BF16 8.6/9.0 → 10.6/10.9 on one): the eight extra instructions per 64-byte step cost more than they hid.
/// </summary>
internal static unsafe partial class WidenedMatMul
{
    /// <summary>Rows streamed together by the decode kernel.</summary>
    public const int StreamRows = 8;

    [ThreadStatic]
    private static float[]? t_scaled;

    /// <summary>
    /// Stores <paramref name="count"/> activation rows (<paramref name="columns"/> wide) as the kernels of
    /// <paramref name="type"/> read them, into <paramref name="scaled"/> (count, columns): F16 decode times 2^112, so the
    /// weights need no rescaling multiply (exact while every |a| &lt; 2^15; false otherwise, and the caller passes none);
    /// FP8 rows times 2^64 (<see cref="Fp8Bits.ActivationScale"/>). False for a type that reads the activations as they
    /// are. A caller running many row blocks of one matmul scales once and passes the result to every
    /// <see cref="Rows"/> call.
    /// </summary>
    public static bool ScaleActivations(GgmlType type, float* a, int aStride, int count, int columns, float* scaled)
    {
        var factor = type switch
        {
            GgmlType.F16 when count < BlockActivations => HalfBits.Scale,
            CheckpointTypes.Fp8Rows => Fp8Bits.ActivationScale,
            _ => 0f,
        };
        if (factor == 0f)
        {
            return false;
        }

        var inRange = true;
        for (var t = 0; t < count; t++)
        {
            var at = a + ((long)t * aStride);
            var st = scaled + ((long)t * columns);
            for (var i = 0; i < columns; i++)
            {
                inRange &= MathF.Abs(at[i]) < 32768f; // false for NaN too
                st[i] = at[i] * factor;
            }
        }

        return inRange || type == CheckpointTypes.Fp8Rows;
    }

    /// <summary>
    /// F16 decode on activations scaled by <see cref="ScaleActivations"/> (<paramref name="scaled"/>, or scaled here
    /// when null); when an activation is out of the scaled range, the plain conversion. The outputs are bit for bit those
    /// of <see cref="F16Elements"/> either way, since every product is the same real number.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamHalf<TL, TV>(
        byte* weights, long rowBytes, int columns, int first, int last, float* a, int aStride, int count, float* y, int yStride, float* scaled)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        fixed (float* s = scaled is null ? Scratch((long)count * columns) : null)
        {
            if (scaled is null && ScaleActivations(GgmlType.F16, a, aStride, count, columns, s))
            {
                scaled = s;
            }

            if (scaled is not null)
            {
                Stream<TL, TV, F16ScaledElements>(weights, rowBytes, columns, first, last, scaled, columns, count, y, yStride);
            }
            else
            {
                Stream<TL, TV, F16Elements>(weights, rowBytes, columns, first, last, a, aStride, count, y, yStride);
            }
        }
    }

    /// <summary>
    /// FP8 rows (<see cref="Fp8Rows"/>: an f32 scale, then the e4m3 bytes): the activations are stored times 2^64, the
    /// bytes convert to v·2^−120 (<see cref="IFloatLanes{TVector}.LoadFp8Scaled"/>), so each product is v·a·2^−56
    /// exactly, and the row's sum is multiplied once by scale·2^56. Decode streams like F16; prefill converts rows into
    /// the panel and runs the same tiles, so every output is one sequence whatever the batch. Activations of magnitude
    /// 2^64 or more (no model has them) would overflow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fp8<TL, TV>(
        byte* weights, long rowBytes, int columns, int first, int last,
        float* a, int aStride, int count, float* y, int yStride, float* panel, float* scaled)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        fixed (float* own = scaled is null ? Scratch((long)count * columns) : null)
        {
            var s = scaled;
            if (s is null)
            {
                ScaleActivations(CheckpointTypes.Fp8Rows, a, aStride, count, columns, own);
                s = own;
            }

            var values = weights + Fp8Rows.HeaderBytes;
            if (count < BlockActivations)
            {
                Stream<TL, TV, Fp8ScaledElements>(values, rowBytes, columns, first, last, s, columns, count, y, yStride);
            }
            else
            {
                Tiles<TL, TV, Fp8ScaledElements>(values, rowBytes, columns, first, last, s, columns, count, y, yStride, panel);
            }

            for (var r = first; r < last; r++)
            {
                var scale = *(float*)(weights + (r * rowBytes)) * Fp8Bits.RowScale;
                for (var t = 0; t < count; t++)
                {
                    y[((long)t * yStride) + r] *= scale;
                }
            }
        }
    }

    private static float[] Scratch(long length) =>
        t_scaled is { } buffer && buffer.Length >= length ? buffer : t_scaled = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);

    /// <summary>Each activation against the stored rows, <see cref="StreamRows"/> at a time, converting in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Stream<TL, TV, TW>(
        byte* weights, long rowBytes, int columns, int first, int last, float* a, int aStride, int count, float* y, int yStride)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        for (var t = 0; t < count; t++)
        {
            var at = a + ((long)t * aStride);
            var yt = y + ((long)t * yStride);
            var r = first;
            for (; r + StreamRows <= last; r += StreamRows)
            {
                Rows8x1<TL, TV, TW>(weights + (r * rowBytes), rowBytes, at, columns, yt + r);
            }

            for (; r < last; r++)
            {
                yt[r] = One<TL, TV, TW>(weights + (r * rowBytes), at, columns);
            }
        }
    }

    /// <summary>
    /// Eight rows, <paramref name="stride"/> bytes apart, times one activation. // y[0..7]
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8x1<TL, TV, TW>(byte* w, long stride, float* a, int k, float* y)
        where TL : IFloatLanes<TV>
        where TV : struct
        where TW : IWeightElements
    {
        byte* w0 = w, w1 = w + stride, w2 = w + (2 * stride), w3 = w + (3 * stride);
        byte* w4 = w + (4 * stride), w5 = w + (5 * stride), w6 = w + (6 * stride), w7 = w + (7 * stride);
        TV acc0 = TL.Zero, acc1 = TL.Zero, acc2 = TL.Zero, acc3 = TL.Zero;
        TV acc4 = TL.Zero, acc5 = TL.Zero, acc6 = TL.Zero, acc7 = TL.Zero;
        var i = 0;
        for (; i + TL.Count <= k; i += TL.Count)
        {
            var x = TL.Load(a + i);
            acc0 = TL.MultiplyAdd(TW.Load<TL, TV>(w0, i), x, acc0);
            acc1 = TL.MultiplyAdd(TW.Load<TL, TV>(w1, i), x, acc1);
            acc2 = TL.MultiplyAdd(TW.Load<TL, TV>(w2, i), x, acc2);
            acc3 = TL.MultiplyAdd(TW.Load<TL, TV>(w3, i), x, acc3);
            acc4 = TL.MultiplyAdd(TW.Load<TL, TV>(w4, i), x, acc4);
            acc5 = TL.MultiplyAdd(TW.Load<TL, TV>(w5, i), x, acc5);
            acc6 = TL.MultiplyAdd(TW.Load<TL, TV>(w6, i), x, acc6);
            acc7 = TL.MultiplyAdd(TW.Load<TL, TV>(w7, i), x, acc7);
        }

        y[0] = Finish<TL, TV, TW>(acc0, w0, a, i, k);
        y[1] = Finish<TL, TV, TW>(acc1, w1, a, i, k);
        y[2] = Finish<TL, TV, TW>(acc2, w2, a, i, k);
        y[3] = Finish<TL, TV, TW>(acc3, w3, a, i, k);
        y[4] = Finish<TL, TV, TW>(acc4, w4, a, i, k);
        y[5] = Finish<TL, TV, TW>(acc5, w5, a, i, k);
        y[6] = Finish<TL, TV, TW>(acc6, w6, a, i, k);
        y[7] = Finish<TL, TV, TW>(acc7, w7, a, i, k);
    }
}
