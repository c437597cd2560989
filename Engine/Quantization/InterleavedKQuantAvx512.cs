using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The Avx512 tier's prefill kernel for Q4_K: two neighbouring row groups of <see cref="InterleavedKQuantLayout"/>
/// (sixteen rows, one per 32-bit lane of a 512-bit vector) against eight Q8_K activation rows. Each broadcast activation
/// word then feeds sixteen rows instead of eight, which halves the broadcasts and the instructions per multiply-add of
/// <see cref="InterleavedKQuantAvx2.Q4Kx8"/>. The integer sums are the same exact sums, and per super-block and output
/// the float steps are the same two FMAs, so every output is bit-identical to the 256-bit kernels'.
/// </summary>
internal static unsafe class InterleavedKQuantAvx512
{
    private const int Q4KBlock = InterleavedKQuantLayout.Q4KGroupBlock;
    private const int ActivationBlock = Q8K.BlockBytes;
    private const int Q = Q8K.QsOffset;
    private const int Sums = Q8K.BsumsOffset;

    /// <summary>
    /// Rows of group-blocks <paramref name="w0"/> (outputs 0..7) and <paramref name="w1"/> (outputs 8..15) times eight
    /// activation rows, <paramref name="aStride"/> bytes apart; activation t's sixteen outputs at <c>y + t·yStride</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx8(byte* w0, byte* w1, int nb, byte* a, nint aStride, float* y, nint yStride)
    {
        for (var t = 0; t < 8; t++)
        {
            Vector512<float>.Zero.Store(y + (t * yStride));
        }

        var m4 = Vector512.Create((byte)0x0F);
        nint s = aStride, s3 = 3 * aStride;
        for (var b = 0; b < nb; b++, w0 += Q4KBlock, w1 += Q4KBlock, a += ActivationBlock)
        {
            InterleavedKQuantAvx2.Prefetch(w0 + Q4KBlock, Q4KBlock);
            InterleavedKQuantAvx2.Prefetch(w1 + Q4KBlock, Q4KBlock);
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            for (var c = 0; c < 8; c++)
            {
                // Sub-block c as in the 256-bit kernel: the low nibbles of chunk-pair c/2 for even c, the high for odd.
                var offset = InterleavedKQuantLayout.Q4KQuants + (256 * (c >> 1));
                byte* q0 = w0 + offset, q1 = w1 + offset;
                var x0 = a + Q + (32 * c);
                var x1 = x0 + s;
                var shift = 4 * (c & 1);
                Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
                for (var i = 0; i < 32; i += 8)
                {
                    // Two chunks per pass: the loop's own instructions would otherwise be a fifth of the front end's work.
                    var u = Nibbles(q0 + (8 * i), q1 + (8 * i), shift, m4);
                    p0 = Mad(p0, u, x0 + i);
                    p1 = Mad(p1, u, x0 + s + i);
                    p2 = Mad(p2, u, x0 + (2 * s) + i);
                    p3 = Mad(p3, u, x0 + s3 + i);
                    p4 = Mad(p4, u, x0 + (4 * s) + i);
                    p5 = Mad(p5, u, x1 + (4 * s) + i);
                    p6 = Mad(p6, u, x0 + (2 * s3) + i);
                    p7 = Mad(p7, u, x1 + (2 * s3) + i);
                    u = Nibbles(q0 + (8 * i) + 32, q1 + (8 * i) + 32, shift, m4);
                    p0 = Mad(p0, u, x0 + i + 4);
                    p1 = Mad(p1, u, x0 + s + i + 4);
                    p2 = Mad(p2, u, x0 + (2 * s) + i + 4);
                    p3 = Mad(p3, u, x0 + s3 + i + 4);
                    p4 = Mad(p4, u, x0 + (4 * s) + i + 4);
                    p5 = Mad(p5, u, x1 + (4 * s) + i + 4);
                    p6 = Mad(p6, u, x0 + (2 * s3) + i + 4);
                    p7 = Mad(p7, u, x1 + (2 * s3) + i + 4);
                }

                var sc = Scale(w0, w1, c);
                i0 += Avx512BW.MultiplyAddAdjacent(p0, sc);
                i1 += Avx512BW.MultiplyAddAdjacent(p1, sc);
                i2 += Avx512BW.MultiplyAddAdjacent(p2, sc);
                i3 += Avx512BW.MultiplyAddAdjacent(p3, sc);
                i4 += Avx512BW.MultiplyAddAdjacent(p4, sc);
                i5 += Avx512BW.MultiplyAddAdjacent(p5, sc);
                i6 += Avx512BW.MultiplyAddAdjacent(p6, sc);
                i7 += Avx512BW.MultiplyAddAdjacent(p7, sc);
            }

            var dw = Vector512.Create(InterleavedKQuantAvx2.Halves(w0), InterleavedKQuantAvx2.Halves(w1));
            var dm = Vector512.Create(InterleavedKQuantAvx2.Halves(w0 + 16), InterleavedKQuantAvx2.Halves(w1 + 16));
            var mins = InterleavedKQuantLayout.Q4KMins;
            var (m0, m1, m2, m3) = (Pair(w0 + mins, w1 + mins), Pair(w0 + mins + 16, w1 + mins + 16), Pair(w0 + mins + 32, w1 + mins + 32), Pair(w0 + mins + 48, w1 + mins + 48));
            var a1 = a + s;
            Finish(y + (0 * yStride), dw, dm, a, i0, Mins(m0, m1, m2, m3, a));
            Finish(y + (1 * yStride), dw, dm, a + s, i1, Mins(m0, m1, m2, m3, a + s));
            Finish(y + (2 * yStride), dw, dm, a + (2 * s), i2, Mins(m0, m1, m2, m3, a + (2 * s)));
            Finish(y + (3 * yStride), dw, dm, a + s3, i3, Mins(m0, m1, m2, m3, a + s3));
            Finish(y + (4 * yStride), dw, dm, a + (4 * s), i4, Mins(m0, m1, m2, m3, a + (4 * s)));
            Finish(y + (5 * yStride), dw, dm, a1 + (4 * s), i5, Mins(m0, m1, m2, m3, a1 + (4 * s)));
            Finish(y + (6 * yStride), dw, dm, a + (2 * s3), i6, Mins(m0, m1, m2, m3, a + (2 * s3)));
            Finish(y + (7 * yStride), dw, dm, a1 + (2 * s3), i7, Mins(m0, m1, m2, m3, a1 + (2 * s3)));
        }
    }

    /// <summary>One 32-byte chunk of each group, side by side, reduced to the nibbles <paramref name="shift"/> selects.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Nibbles(byte* q0, byte* q1, int shift, Vector512<byte> m4) =>
        (Avx512F.InsertVector256(Vector256.Load(q0).ToVector512Unsafe(), Vector256.Load(q1), 1).AsUInt16() >> shift).AsByte() & m4;

    /// <summary>Per row lane: the byte dot of its four levels in <paramref name="u"/> with the four activation bytes at x, added to acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Mad(Vector512<short> acc, Vector512<byte> u, byte* x) =>
        acc + Avx512BW.MultiplyAddAdjacent(u, Vector512.Create(*(int*)x).AsSByte());

    /// <summary>Sixteen unsigned bytes of each group (row r's pair at 2r) widened: lane r of group g holds (first, second).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Pair(byte* p0, byte* p1) =>
        Avx512BW.ConvertToVector512Int16(Vector256.Create(Vector128.Load(p0), Vector128.Load(p1))).AsInt16();

    /// <summary>The unsigned scale of sub-block <paramref name="j"/> as (s, s) in every row's lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Scale(byte* w0, byte* w1, int j)
    {
        var offset = InterleavedKQuantLayout.Q4KScales + (16 * (j >> 1));
        var pairs = Pair(w0 + offset, w1 + offset).AsByte();
        var pick = (j & 1) == 0
            ? Vector512.Create((byte)0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13)
            : Vector512.Create((byte)2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15);
        return Avx512BW.Shuffle(pairs, pick).AsInt16();
    }

    /// <summary>Σ_j min_j · (the activation's 32-element sum j), per row, as <c>InterleavedKQuantAvx2</c> computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Mins(Vector512<short> m0, Vector512<short> m1, Vector512<short> m2, Vector512<short> m3, byte* a)
    {
        var sums = Avx2.HorizontalAdd(Vector256.Load((short*)(a + Sums)), Vector256<short>.Zero).AsInt32();
        var both = Vector512.Create(sums, sums);
        var msum = Avx512BW.MultiplyAddAdjacent(m0, Avx512F.PermuteVar16x32(both, Vector512.Create(0)).AsInt16());
        msum += Avx512BW.MultiplyAddAdjacent(m1, Avx512F.PermuteVar16x32(both, Vector512.Create(1)).AsInt16());
        msum += Avx512BW.MultiplyAddAdjacent(m2, Avx512F.PermuteVar16x32(both, Vector512.Create(4)).AsInt16());
        return msum + Avx512BW.MultiplyAddAdjacent(m3, Avx512F.PermuteVar16x32(both, Vector512.Create(5)).AsInt16());
    }

    /// <summary>The per-super-block float step of sixteen outputs (the order of <c>InterleavedKQuantAvx2</c>'s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* y, Vector512<float> dw, Vector512<float> dm, byte* a, Vector512<int> isum, Vector512<int> msum)
    {
        var da = Vector512.Create(*(float*)a);
        var acc = Avx512F.FusedMultiplyAdd(dw * da, Avx512F.ConvertToVector512Single(isum), Vector512.Load(y));
        Avx512F.FusedMultiplyAdd(dm * -da, Avx512F.ConvertToVector512Single(msum), acc).Store(y);
    }
}
