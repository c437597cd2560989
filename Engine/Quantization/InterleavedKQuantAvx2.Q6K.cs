using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The Q6_K kernels of <see cref="InterleavedKQuantAvx2"/>. A group of sixteen elements (one signed scale) is four
/// chunks; two chunks' byte dots share a 16-bit sum (≤ 2·2·63·128 &lt; 2^15), so a group costs every activation two
/// <c>vpmaddwd</c> against its scale. The multi-activation kernels walk a super-block quarter by quarter (elements
/// 64q..64q+63, whose levels sit in the same nibble and bit pair of every chunk), so that each level extraction is a
/// fixed shift and mask.
/// </summary>
internal static unsafe partial class InterleavedKQuantAvx2
{
    /// <summary>Eight rows of Q6_K weights times one activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6Kx1(byte* w, int nb, byte* a, float* y)
    {
        var acc = Vector256<float>.Zero;
        var m4 = Vector256.Create((byte)0x0F);
        var m30 = Vector256.Create((byte)0x30);
        for (var b = 0; b < nb; b++, w += Q6KBlock, a += ActivationBlock)
        {
            Prefetch(w + Q6KBlock, Q6KBlock); // without it, 6 GB/s instead of 22 from memory: three streams per block

            var isum = Vector256<int>.Zero;
            for (var g = 0; g < 4; g++)
            {
                // Chunks k, k+16, k+32, k+48 share the high-bit chunk k: groups k/4, 4 + k/4, 8 + k/4, 12 + k/4, whose
                // scales serve the four k = 4g..4g+3 written out below.
                var s0 = Scale6(w, g);
                var s1 = Scale6(w, g + 4);
                var s2 = Scale6(w, g + 8);
                var s3 = Scale6(w, g + 12);
                var high = w + InterleavedKQuantLayout.Q6KHigh + (128 * g);
                var low = w + InterleavedKQuantLayout.Q6KLow + (128 * g);
                var x = a + Q + (16 * g);
                isum += Q6KChunks(high, low, x, s0, s1, s2, s3, m4, m30);
                isum += Q6KChunks(high + 64, low + 64, x + 8, s0, s1, s2, s3, m4, m30);
            }

            isum -= Q6KOffsets(w, a) << 5;
            acc = Fma.MultiplyAdd(Halves(w) * Vector256.Create(*(float*)a), Vector256.ConvertToSingle(isum), acc);
        }

        acc.Store(y);
    }

    /// <summary>
    /// High-bit chunks k and k + 1 at <paramref name="high"/>, with low chunks k, k + 1 and k + 16, k + 17 at
    /// <paramref name="low"/>: their integer dot with the activation at x in each of the four 64-element quarters, scaled
    /// by the quarter's group. Both chunks' byte dots of a quarter share that group, so they are added as 16-bit sums
    /// before its one scale multiply: exact (|2 · 2 · 63 · 128| &lt; 2^15), and a <c>vpmaddwd</c> and an add fewer per
    /// quarter than a multiply per chunk (Q6_K decode 21.4 → 23.1 GB/s on one Zen 4 thread, in cache).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q6KChunks(
        byte* high, byte* low, byte* x, Vector256<short> s0, Vector256<short> s1, Vector256<short> s2, Vector256<short> s3,
        Vector256<byte> m4, Vector256<byte> m30)
    {
        var (a0, a1, a2, a3) = Q6KLevels(high, low, m4, m30);
        var (b0, b1, b2, b3) = Q6KLevels(high + 32, low + 32, m4, m30);
        return Avx2.MultiplyAddAdjacent(Dot(a0, x) + Dot(b0, x + 4), s0) + Avx2.MultiplyAddAdjacent(Dot(a1, x + 64) + Dot(b1, x + 68), s1)
            + Avx2.MultiplyAddAdjacent(Dot(a2, x + 128) + Dot(b2, x + 132), s2) + Avx2.MultiplyAddAdjacent(Dot(a3, x + 192) + Dot(b3, x + 196), s3);
    }

    /// <summary>The 6-bit levels of the four quarters that high-bit chunk k and low chunks k, k + 16 hold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Q0, Vector256<byte> Q1, Vector256<byte> Q2, Vector256<byte> Q3) Q6KLevels(
        byte* high, byte* low, Vector256<byte> m4, Vector256<byte> m30)
    {
        var h = Vector256.Load(high).AsUInt16();
        var l0 = Vector256.Load(low);
        var l1 = Vector256.Load(low + 512);
        return (
            (l0 & m4) | ((h << 4).AsByte() & m30),
            (l1 & m4) | ((h << 2).AsByte() & m30),
            ((l0.AsUInt16() >> 4).AsByte() & m4) | (h.AsByte() & m30),
            ((l1.AsUInt16() >> 4).AsByte() & m4) | ((h >> 2).AsByte() & m30));
    }

    /// <summary>Eight rows of Q6_K weights times four activation rows, <paramref name="aStride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6Kx4(byte* w, int nb, byte* a, nint aStride, float* y, nint yStride)
    {
        Clear(y, yStride, 4);
        nint s = aStride, s3 = 3 * aStride;
        for (var b = 0; b < nb; b++, w += Q6KBlock, a += ActivationBlock)
        {
            Prefetch(w + Q6KBlock, Q6KBlock);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (var q = 0; q < 4; q++)
            {
                // Quarter q (elements 64q..64q+63): low nibbles in chunks 16·(q mod 2) + k (the high nibbles for q ≥ 2),
                // top two bits at bits 2q, 2q+1 of high-bit chunk k.
                var low = w + InterleavedKQuantLayout.Q6KLow + (512 * (q & 1));
                var lowShift = Vector128.CreateScalar((ushort)(4 * (q >> 1)));
                var highShift = Vector128.CreateScalar((ushort)(2 * q));
                for (var k = 0; k < 16; k += 8)
                {
                    // Groups 4q + k/4 (chunks k..k+3) and 4q + k/4 + 1 (chunks k+4..k+7) share a scale pair.
                    var x = a + Q + (64 * q) + (4 * k);
                    var pair = Avx2.ConvertToVector256Int16((sbyte*)(w + InterleavedKQuantLayout.Q6KScales + (32 * q) + (2 * k)));
                    var sc = Even(pair);
                    var h = w + InterleavedKQuantLayout.Q6KHigh + (32 * k);
                    var l = low + (32 * k);
                    var (l0, l1, l2, l3) = (Level6(l, h, lowShift, highShift), Level6(l + 32, h + 32, lowShift, highShift), Level6(l + 64, h + 64, lowShift, highShift), Level6(l + 96, h + 96, lowShift, highShift));
                    i0 += GroupDot(l0, l1, l2, l3, x, sc);
                    i1 += GroupDot(l0, l1, l2, l3, x + s, sc);
                    i2 += GroupDot(l0, l1, l2, l3, x + (2 * s), sc);
                    i3 += GroupDot(l0, l1, l2, l3, x + s3, sc);
                    sc = Odd(pair);
                    (l0, l1, l2, l3) = (Level6(l + 128, h + 128, lowShift, highShift), Level6(l + 160, h + 160, lowShift, highShift), Level6(l + 192, h + 192, lowShift, highShift), Level6(l + 224, h + 224, lowShift, highShift));
                    i0 += GroupDot(l0, l1, l2, l3, x + 16, sc);
                    i1 += GroupDot(l0, l1, l2, l3, x + s + 16, sc);
                    i2 += GroupDot(l0, l1, l2, l3, x + (2 * s) + 16, sc);
                    i3 += GroupDot(l0, l1, l2, l3, x + s3 + 16, sc);
                }
            }

            var dw = Halves(w);
            Finish6(y, dw, a, i0 - (Q6KOffsets(w, a) << 5));
            Finish6(y + yStride, dw, a + s, i1 - (Q6KOffsets(w, a + s) << 5));
            Finish6(y + (2 * yStride), dw, a + (2 * s), i2 - (Q6KOffsets(w, a + (2 * s)) << 5));
            Finish6(y + (3 * yStride), dw, a + s3, i3 - (Q6KOffsets(w, a + s3) << 5));
        }
    }

    /// <summary>Eight rows of Q6_K weights times eight activation rows (Avx512 tier: needs 32 vector registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6Kx8(byte* w, int nb, byte* a, nint aStride, float* y, nint yStride)
    {
        Clear(y, yStride, 8);
        nint s = aStride, s3 = 3 * aStride;
        for (var b = 0; b < nb; b++, w += Q6KBlock, a += ActivationBlock)
        {
            Prefetch(w + Q6KBlock, Q6KBlock);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            for (var q = 0; q < 4; q++)
            {
                // Quarter q (elements 64q..64q+63): low nibbles in chunks 16·(q mod 2) + k (the high nibbles for q ≥ 2),
                // top two bits at bits 2q, 2q+1 of high-bit chunk k.
                var low = w + InterleavedKQuantLayout.Q6KLow + (512 * (q & 1));
                var lowShift = Vector128.CreateScalar((ushort)(4 * (q >> 1)));
                var highShift = Vector128.CreateScalar((ushort)(2 * q));
                for (var k = 0; k < 16; k += 8)
                {
                    // As in Q6Kx4; the eight activations are addressed from two bases (no address arithmetic).
                    var x = a + Q + (64 * q) + (4 * k);
                    var x1 = x + s;
                    var pair = Avx2.ConvertToVector256Int16((sbyte*)(w + InterleavedKQuantLayout.Q6KScales + (32 * q) + (2 * k)));
                    var sc = Even(pair);
                    var h = w + InterleavedKQuantLayout.Q6KHigh + (32 * k);
                    var l = low + (32 * k);
                    var (l0, l1, l2, l3) = (Level6(l, h, lowShift, highShift), Level6(l + 32, h + 32, lowShift, highShift), Level6(l + 64, h + 64, lowShift, highShift), Level6(l + 96, h + 96, lowShift, highShift));
                    i0 += GroupDot(l0, l1, l2, l3, x, sc);
                    i1 += GroupDot(l0, l1, l2, l3, x + s, sc);
                    i2 += GroupDot(l0, l1, l2, l3, x + (2 * s), sc);
                    i3 += GroupDot(l0, l1, l2, l3, x + s3, sc);
                    i4 += GroupDot(l0, l1, l2, l3, x + (4 * s), sc);
                    i5 += GroupDot(l0, l1, l2, l3, x1 + (4 * s), sc);
                    i6 += GroupDot(l0, l1, l2, l3, x + (2 * s3), sc);
                    i7 += GroupDot(l0, l1, l2, l3, x1 + (2 * s3), sc);
                    sc = Odd(pair);
                    (l0, l1, l2, l3) = (Level6(l + 128, h + 128, lowShift, highShift), Level6(l + 160, h + 160, lowShift, highShift), Level6(l + 192, h + 192, lowShift, highShift), Level6(l + 224, h + 224, lowShift, highShift));
                    i0 += GroupDot(l0, l1, l2, l3, x + 16, sc);
                    i1 += GroupDot(l0, l1, l2, l3, x + s + 16, sc);
                    i2 += GroupDot(l0, l1, l2, l3, x + (2 * s) + 16, sc);
                    i3 += GroupDot(l0, l1, l2, l3, x + s3 + 16, sc);
                    i4 += GroupDot(l0, l1, l2, l3, x + (4 * s) + 16, sc);
                    i5 += GroupDot(l0, l1, l2, l3, x1 + (4 * s) + 16, sc);
                    i6 += GroupDot(l0, l1, l2, l3, x + (2 * s3) + 16, sc);
                    i7 += GroupDot(l0, l1, l2, l3, x1 + (2 * s3) + 16, sc);
                }
            }

            var dw = Halves(w);
            byte* a1 = a + s;
            Finish6(y, dw, a, i0 - (Q6KOffsets(w, a) << 5));
            Finish6(y + yStride, dw, a + s, i1 - (Q6KOffsets(w, a + s) << 5));
            Finish6(y + (2 * yStride), dw, a + (2 * s), i2 - (Q6KOffsets(w, a + (2 * s)) << 5));
            Finish6(y + (3 * yStride), dw, a + s3, i3 - (Q6KOffsets(w, a + s3) << 5));
            Finish6(y + (4 * yStride), dw, a + (4 * s), i4 - (Q6KOffsets(w, a + (4 * s)) << 5));
            Finish6(y + (5 * yStride), dw, a1 + (4 * s), i5 - (Q6KOffsets(w, a1 + (4 * s)) << 5));
            Finish6(y + (6 * yStride), dw, a + (2 * s3), i6 - (Q6KOffsets(w, a + (2 * s3)) << 5));
            Finish6(y + (7 * yStride), dw, a1 + (2 * s3), i7 - (Q6KOffsets(w, a1 + (2 * s3)) << 5));
        }
    }

    /// <summary>The 6-bit levels (0..63) of one chunk of the eight rows, from its low-nibble and high-bit chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Level6(byte* low, byte* high, Vector128<ushort> lowShift, Vector128<ushort> highShift)
    {
        var l = Avx2.ShiftRightLogical(Vector256.Load((ushort*)low), lowShift).AsByte() & Vector256.Create((byte)0x0F);
        var h = Avx2.ShiftLeftLogical(Avx2.ShiftRightLogical(Vector256.Load((ushort*)high), highShift), 4).AsByte();
        return l | (h & Vector256.Create((byte)0x30));
    }

    /// <summary>A group's scaled dot per row: two chunk pairs summed in 16 bits, each pair scaled and widened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> GroupDot(Vector256<byte> l0, Vector256<byte> l1, Vector256<byte> l2, Vector256<byte> l3, byte* x, Vector256<short> scale) =>
        Avx2.MultiplyAddAdjacent(Mad(Dot(l0, x), l1, x + 4), scale) + Avx2.MultiplyAddAdjacent(Mad(Dot(l2, x + 8), l3, x + 12), scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish6(float* y, Vector256<float> dw, byte* a, Vector256<int> isum) =>
        Fma.MultiplyAdd(dw * Vector256.Create(*(float*)a), Vector256.ConvertToSingle(isum), Vector256.Load(y)).Store(y);

    /// <summary>Σ_g scale_g · (the activation's 16-element sum g), per row: what the levels' +32 offset added, over 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q6KOffsets(byte* w, byte* a)
    {
        var sums = a + Sums;
        var offset = Vector256<int>.Zero;
        for (var p = 0; p < 8; p++)
        {
            var s = Avx2.ConvertToVector256Int16((sbyte*)(w + InterleavedKQuantLayout.Q6KScales + (16 * p)));
            offset += Avx2.MultiplyAddAdjacent(s, Vector256.Create(*(int*)(sums + (4 * p))).AsInt16());
        }

        return offset;
    }

    /// <summary>The signed scale of Q6_K group <paramref name="g"/> as (s, s) in every row's lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Scale6(byte* w, int g)
    {
        var s = Avx2.ConvertToVector256Int16((sbyte*)(w + InterleavedKQuantLayout.Q6KScales + (16 * (g >> 1))));
        return (g & 1) == 0 ? Even(s) : Odd(s);
    }
}
