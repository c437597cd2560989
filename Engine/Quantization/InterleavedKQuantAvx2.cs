using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// 256-bit kernels over <see cref="InterleavedKQuantLayout"/> weights for the Avx2, AvxVnni and Avx512 tiers: one group
/// of eight rows against one, four or (Avx512, whose 32 vector registers hold the sixteen accumulators) eight Q8_K
/// activation rows. Byte dots use <c>vpmaddubsw</c> (unsigned levels × signed activations, partial sums in 16 bits,
/// which the levels' ranges keep exact: Q4_K sums eight, Q6_K two) and <c>vpmaddwd</c> against the duplicated sub-block
/// scale, so every row's integer dot of a super-block is exact and its order immaterial. Per super-block and output
/// the float sequence is fixed, <c>acc = fma(d_w·d_a, Σ, acc)</c> then (Q4_K) <c>acc = fma(dmin_w·(−d_a), Σmin, acc)</c>,
/// the same in every kernel here and in <see cref="InterleavedKQuantVector128"/>: an output depends neither on the
/// batch nor on the tier. Activation t is at <c>a + t·aStride</c> (Q8_K: f32 d, 256 q, 16 int16 group sums per block),
/// its eight outputs at <c>y + t·yStride</c>.
/// </summary>
internal static unsafe partial class InterleavedKQuantAvx2
{
    private const int Q4KBlock = InterleavedKQuantLayout.Q4KGroupBlock;
    private const int Q6KBlock = InterleavedKQuantLayout.Q6KGroupBlock;
    private const int ActivationBlock = Q8K.BlockBytes;
    private const int Q = Q8K.QsOffset;
    private const int Sums = Q8K.BsumsOffset;

    /// <summary>Eight rows of Q4_K weights times one activation row.</summary>
    /// <remarks>
    /// No software prefetch: this kernel reads its group-blocks front to back, which the hardware prefetcher follows,
    /// and the nineteen prefetches per block only took issue slots (kquant-ab, one thread, a matrix four times the L3:
    /// 33.0 GB/s without them, 24–29 with them, the plain read 33.2). Q6_K's kernels, which read three places in a
    /// block at once, keep theirs.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx1(byte* w, int nb, byte* a, float* y)
    {
        var acc = Vector256<float>.Zero;
        var m4 = Vector256.Create((byte)0x0F);
        for (var b = 0; b < nb; b++, w += Q4KBlock, a += ActivationBlock)
        {
            var isum = Vector256<int>.Zero;
            for (var c = 0; c < 4; c++)
            {
                // Chunk pair c: low nibbles are sub-block 2c, high nibbles 2c + 1. Unrolled over the eight chunks with
                // constant offsets: as a loop, its index arithmetic and branch cost a fifth more time per byte.
                var q = w + InterleavedKQuantLayout.Q4KQuants + (256 * c);
                var x = a + Q + (64 * c);
                var v = Vector256.Load(q);
                var lo = Dot(v & m4, x);
                var hi = Dot((v.AsUInt16() >> 4).AsByte() & m4, x + 32);
                v = Vector256.Load(q + 32);
                lo = Mad(lo, v & m4, x + 4);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 36);
                v = Vector256.Load(q + 64);
                lo = Mad(lo, v & m4, x + 8);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 40);
                v = Vector256.Load(q + 96);
                lo = Mad(lo, v & m4, x + 12);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 44);
                v = Vector256.Load(q + 128);
                lo = Mad(lo, v & m4, x + 16);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 48);
                v = Vector256.Load(q + 160);
                lo = Mad(lo, v & m4, x + 20);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 52);
                v = Vector256.Load(q + 192);
                lo = Mad(lo, v & m4, x + 24);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 56);
                v = Vector256.Load(q + 224);
                lo = Mad(lo, v & m4, x + 28);
                hi = Mad(hi, (v.AsUInt16() >> 4).AsByte() & m4, x + 60);
                var s = Pair(w + InterleavedKQuantLayout.Q4KScales + (16 * c));
                isum += Avx2.MultiplyAddAdjacent(lo, Even(s)) + Avx2.MultiplyAddAdjacent(hi, Odd(s));
            }

            var msum = Q4KMins(w, a);
            var da = Vector256.Create(*(float*)a);
            acc = Fma.MultiplyAdd(Halves(w) * da, Vector256.ConvertToSingle(isum), acc);
            acc = Fma.MultiplyAdd(Halves(w + 16) * -da, Vector256.ConvertToSingle(msum), acc);
        }

        acc.Store(y);
    }

    /// <summary>Eight rows of Q4_K weights times four activation rows, <paramref name="aStride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx4(byte* w, int nb, byte* a, nint aStride, float* y, nint yStride)
    {
        Clear(y, yStride, 4);
        var m4 = Vector256.Create((byte)0x0F);
        nint s = aStride, s3 = 3 * aStride;
        for (var b = 0; b < nb; b++, w += Q4KBlock, a += ActivationBlock)
        {
            Prefetch(w + Q4KBlock, Q4KBlock);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (var c = 0; c < 8; c++)
            {
                // Sub-block c: the low nibbles of chunk-pair c/2 for even c, the high nibbles for odd. Unrolled over the
                // eight chunks with every activation addressed from two bases, so each multiply-add is a broadcast
                // load, vpmaddubsw and vpaddw with no address arithmetic (which had made the loop front-end bound).
                var q = w + InterleavedKQuantLayout.Q4KQuants + (256 * (c >> 1));
                var x0 = a + Q + (32 * c);
                var shift = 4 * (c & 1);
                Vector256<short> p0 = default, p1 = default, p2 = default, p3 = default;
                Vector256<byte> u;
                u = (Vector256.Load(q + 0).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0);
                p1 = Mad(p1, u, x0 + s);
                p2 = Mad(p2, u, x0 + (2 * s));
                p3 = Mad(p3, u, x0 + s3);
                u = (Vector256.Load(q + 32).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 4);
                p1 = Mad(p1, u, x0 + s + 4);
                p2 = Mad(p2, u, x0 + (2 * s) + 4);
                p3 = Mad(p3, u, x0 + s3 + 4);
                u = (Vector256.Load(q + 64).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 8);
                p1 = Mad(p1, u, x0 + s + 8);
                p2 = Mad(p2, u, x0 + (2 * s) + 8);
                p3 = Mad(p3, u, x0 + s3 + 8);
                u = (Vector256.Load(q + 96).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 12);
                p1 = Mad(p1, u, x0 + s + 12);
                p2 = Mad(p2, u, x0 + (2 * s) + 12);
                p3 = Mad(p3, u, x0 + s3 + 12);
                u = (Vector256.Load(q + 128).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 16);
                p1 = Mad(p1, u, x0 + s + 16);
                p2 = Mad(p2, u, x0 + (2 * s) + 16);
                p3 = Mad(p3, u, x0 + s3 + 16);
                u = (Vector256.Load(q + 160).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 20);
                p1 = Mad(p1, u, x0 + s + 20);
                p2 = Mad(p2, u, x0 + (2 * s) + 20);
                p3 = Mad(p3, u, x0 + s3 + 20);
                u = (Vector256.Load(q + 192).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 24);
                p1 = Mad(p1, u, x0 + s + 24);
                p2 = Mad(p2, u, x0 + (2 * s) + 24);
                p3 = Mad(p3, u, x0 + s3 + 24);
                u = (Vector256.Load(q + 224).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 28);
                p1 = Mad(p1, u, x0 + s + 28);
                p2 = Mad(p2, u, x0 + (2 * s) + 28);
                p3 = Mad(p3, u, x0 + s3 + 28);
                var sc = Scale(w + InterleavedKQuantLayout.Q4KScales, c);
                i0 += Avx2.MultiplyAddAdjacent(p0, sc);
                i1 += Avx2.MultiplyAddAdjacent(p1, sc);
                i2 += Avx2.MultiplyAddAdjacent(p2, sc);
                i3 += Avx2.MultiplyAddAdjacent(p3, sc);
            }

            var dw = Halves(w);
            var dm = Halves(w + 16);
            var mins = w + InterleavedKQuantLayout.Q4KMins;
            var (m0, m1, m2, m3) = (Pair(mins), Pair(mins + 16), Pair(mins + 32), Pair(mins + 48));
            Finish(y + (0 * yStride), dw, dm, a, i0, Q4KMins(m0, m1, m2, m3, a));
            Finish(y + (1 * yStride), dw, dm, a + s, i1, Q4KMins(m0, m1, m2, m3, a + s));
            Finish(y + (2 * yStride), dw, dm, a + (2 * s), i2, Q4KMins(m0, m1, m2, m3, a + (2 * s)));
            Finish(y + (3 * yStride), dw, dm, a + s3, i3, Q4KMins(m0, m1, m2, m3, a + s3));
        }
    }

    /// <summary>Eight rows of Q4_K weights times eight activation rows (Avx512 tier: needs 32 vector registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx8(byte* w, int nb, byte* a, nint aStride, float* y, nint yStride)
    {
        Clear(y, yStride, 8);
        var m4 = Vector256.Create((byte)0x0F);
        nint s = aStride, s3 = 3 * aStride;
        for (var b = 0; b < nb; b++, w += Q4KBlock, a += ActivationBlock)
        {
            Prefetch(w + Q4KBlock, Q4KBlock);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            for (var c = 0; c < 8; c++)
            {
                // Sub-block c: the low nibbles of chunk-pair c/2 for even c, the high nibbles for odd. Unrolled over the
                // eight chunks with every activation addressed from two bases, so each multiply-add is a broadcast
                // load, vpmaddubsw and vpaddw with no address arithmetic (which had made the loop front-end bound).
                var q = w + InterleavedKQuantLayout.Q4KQuants + (256 * (c >> 1));
                var x0 = a + Q + (32 * c);
                var x1 = x0 + s;
                var shift = 4 * (c & 1);
                Vector256<short> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
                Vector256<byte> u;
                u = (Vector256.Load(q + 0).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0);
                p1 = Mad(p1, u, x0 + s);
                p2 = Mad(p2, u, x0 + (2 * s));
                p3 = Mad(p3, u, x0 + s3);
                p4 = Mad(p4, u, x0 + (4 * s));
                p5 = Mad(p5, u, x1 + (4 * s));
                p6 = Mad(p6, u, x0 + (2 * s3));
                p7 = Mad(p7, u, x1 + (2 * s3));
                u = (Vector256.Load(q + 32).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 4);
                p1 = Mad(p1, u, x0 + s + 4);
                p2 = Mad(p2, u, x0 + (2 * s) + 4);
                p3 = Mad(p3, u, x0 + s3 + 4);
                p4 = Mad(p4, u, x0 + (4 * s) + 4);
                p5 = Mad(p5, u, x1 + (4 * s) + 4);
                p6 = Mad(p6, u, x0 + (2 * s3) + 4);
                p7 = Mad(p7, u, x1 + (2 * s3) + 4);
                u = (Vector256.Load(q + 64).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 8);
                p1 = Mad(p1, u, x0 + s + 8);
                p2 = Mad(p2, u, x0 + (2 * s) + 8);
                p3 = Mad(p3, u, x0 + s3 + 8);
                p4 = Mad(p4, u, x0 + (4 * s) + 8);
                p5 = Mad(p5, u, x1 + (4 * s) + 8);
                p6 = Mad(p6, u, x0 + (2 * s3) + 8);
                p7 = Mad(p7, u, x1 + (2 * s3) + 8);
                u = (Vector256.Load(q + 96).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 12);
                p1 = Mad(p1, u, x0 + s + 12);
                p2 = Mad(p2, u, x0 + (2 * s) + 12);
                p3 = Mad(p3, u, x0 + s3 + 12);
                p4 = Mad(p4, u, x0 + (4 * s) + 12);
                p5 = Mad(p5, u, x1 + (4 * s) + 12);
                p6 = Mad(p6, u, x0 + (2 * s3) + 12);
                p7 = Mad(p7, u, x1 + (2 * s3) + 12);
                u = (Vector256.Load(q + 128).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 16);
                p1 = Mad(p1, u, x0 + s + 16);
                p2 = Mad(p2, u, x0 + (2 * s) + 16);
                p3 = Mad(p3, u, x0 + s3 + 16);
                p4 = Mad(p4, u, x0 + (4 * s) + 16);
                p5 = Mad(p5, u, x1 + (4 * s) + 16);
                p6 = Mad(p6, u, x0 + (2 * s3) + 16);
                p7 = Mad(p7, u, x1 + (2 * s3) + 16);
                u = (Vector256.Load(q + 160).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 20);
                p1 = Mad(p1, u, x0 + s + 20);
                p2 = Mad(p2, u, x0 + (2 * s) + 20);
                p3 = Mad(p3, u, x0 + s3 + 20);
                p4 = Mad(p4, u, x0 + (4 * s) + 20);
                p5 = Mad(p5, u, x1 + (4 * s) + 20);
                p6 = Mad(p6, u, x0 + (2 * s3) + 20);
                p7 = Mad(p7, u, x1 + (2 * s3) + 20);
                u = (Vector256.Load(q + 192).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 24);
                p1 = Mad(p1, u, x0 + s + 24);
                p2 = Mad(p2, u, x0 + (2 * s) + 24);
                p3 = Mad(p3, u, x0 + s3 + 24);
                p4 = Mad(p4, u, x0 + (4 * s) + 24);
                p5 = Mad(p5, u, x1 + (4 * s) + 24);
                p6 = Mad(p6, u, x0 + (2 * s3) + 24);
                p7 = Mad(p7, u, x1 + (2 * s3) + 24);
                u = (Vector256.Load(q + 224).AsUInt16() >> shift).AsByte() & m4;
                p0 = Mad(p0, u, x0 + 28);
                p1 = Mad(p1, u, x0 + s + 28);
                p2 = Mad(p2, u, x0 + (2 * s) + 28);
                p3 = Mad(p3, u, x0 + s3 + 28);
                p4 = Mad(p4, u, x0 + (4 * s) + 28);
                p5 = Mad(p5, u, x1 + (4 * s) + 28);
                p6 = Mad(p6, u, x0 + (2 * s3) + 28);
                p7 = Mad(p7, u, x1 + (2 * s3) + 28);
                var sc = Scale(w + InterleavedKQuantLayout.Q4KScales, c);
                i0 += Avx2.MultiplyAddAdjacent(p0, sc);
                i1 += Avx2.MultiplyAddAdjacent(p1, sc);
                i2 += Avx2.MultiplyAddAdjacent(p2, sc);
                i3 += Avx2.MultiplyAddAdjacent(p3, sc);
                i4 += Avx2.MultiplyAddAdjacent(p4, sc);
                i5 += Avx2.MultiplyAddAdjacent(p5, sc);
                i6 += Avx2.MultiplyAddAdjacent(p6, sc);
                i7 += Avx2.MultiplyAddAdjacent(p7, sc);
            }

            var dw = Halves(w);
            var dm = Halves(w + 16);
            var mins = w + InterleavedKQuantLayout.Q4KMins;
            var (m0, m1, m2, m3) = (Pair(mins), Pair(mins + 16), Pair(mins + 32), Pair(mins + 48));
            var a1 = a + s;
            Finish(y + (0 * yStride), dw, dm, a, i0, Q4KMins(m0, m1, m2, m3, a));
            Finish(y + (1 * yStride), dw, dm, a + s, i1, Q4KMins(m0, m1, m2, m3, a + s));
            Finish(y + (2 * yStride), dw, dm, a + (2 * s), i2, Q4KMins(m0, m1, m2, m3, a + (2 * s)));
            Finish(y + (3 * yStride), dw, dm, a + s3, i3, Q4KMins(m0, m1, m2, m3, a + s3));
            Finish(y + (4 * yStride), dw, dm, a + (4 * s), i4, Q4KMins(m0, m1, m2, m3, a + (4 * s)));
            Finish(y + (5 * yStride), dw, dm, a1 + (4 * s), i5, Q4KMins(m0, m1, m2, m3, a1 + (4 * s)));
            Finish(y + (6 * yStride), dw, dm, a + (2 * s3), i6, Q4KMins(m0, m1, m2, m3, a + (2 * s3)));
            Finish(y + (7 * yStride), dw, dm, a1 + (2 * s3), i7, Q4KMins(m0, m1, m2, m3, a1 + (2 * s3)));
        }
    }

    private static void Clear(float* y, nint yStride, int count)
    {
        for (var t = 0; t < count; t++)
        {
            Vector256<float>.Zero.Store(y + (t * yStride));
        }
    }

    /// <summary>The per-super-block float step of one Q4_K output vector (the same order as <see cref="Q4Kx1"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* y, Vector256<float> dw, Vector256<float> dm, byte* a, Vector256<int> isum, Vector256<int> msum)
    {
        var da = Vector256.Create(*(float*)a);
        var acc = Fma.MultiplyAdd(dw * da, Vector256.ConvertToSingle(isum), Vector256.Load(y));
        Fma.MultiplyAdd(dm * -da, Vector256.ConvertToSingle(msum), acc).Store(y);
    }

    /// <summary>
    /// Σ_j min_j · (the activation's 32-element sum j), per row. The sixteen 16-element sums are added in neighbouring
    /// pairs (<c>vphaddw</c>, exact: |sum| ≤ 32·127), so each 32-bit element holds the sums of sub-blocks 2p and 2p+1,
    /// which multiply the stored (min_2p, min_2p+1) pairs as they are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4KMins(byte* w, byte* a)
    {
        var mins = w + InterleavedKQuantLayout.Q4KMins;
        return Q4KMins(Pair(mins), Pair(mins + 16), Pair(mins + 32), Pair(mins + 48), a);
    }

    /// <summary>As <see cref="Q4KMins(byte*, byte*)"/> with the row's (min_2p, min_2p+1) pairs already loaded (once per
    /// super-block for all the activations of a kernel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q4KMins(Vector256<short> m0, Vector256<short> m1, Vector256<short> m2, Vector256<short> m3, byte* a)
    {
        var sums = Avx2.HorizontalAdd(Vector256.Load((short*)(a + Sums)), Vector256<short>.Zero).AsInt32();
        var msum = Avx2.MultiplyAddAdjacent(m0, Avx2.PermuteVar8x32(sums, Vector256.Create(0)).AsInt16());
        msum += Avx2.MultiplyAddAdjacent(m1, Avx2.PermuteVar8x32(sums, Vector256.Create(1)).AsInt16());
        msum += Avx2.MultiplyAddAdjacent(m2, Avx2.PermuteVar8x32(sums, Vector256.Create(4)).AsInt16());
        return msum + Avx2.MultiplyAddAdjacent(m3, Avx2.PermuteVar8x32(sums, Vector256.Create(5)).AsInt16());
    }

    /// <summary>The unsigned scale of Q4_K sub-block <paramref name="j"/> as (s, s) in every row's lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Scale(byte* scales, int j)
    {
        var s = Pair(scales + (16 * (j >> 1)));
        return (j & 1) == 0 ? Even(s) : Odd(s);
    }

    /// <summary>Sixteen unsigned bytes (row r's pair at 2r) widened: lane r holds (first, second) as 16-bit values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pair(byte* p) => Avx2.ConvertToVector256Int16(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Even(Vector256<short> pairs) =>
        Avx2.Shuffle(pairs.AsByte(), Vector256.Create((byte)0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13)).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Odd(Vector256<short> pairs) =>
        Avx2.Shuffle(pairs.AsByte(), Vector256.Create((byte)2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15)).AsInt16();

    /// <summary>Per row lane: (u0·x0 + u1·x1, u2·x2 + u3·x3) with the four activation bytes at x broadcast.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Dot(Vector256<byte> u, byte* x) =>
        Avx2.MultiplyAddAdjacent(u, Vector256.Create(*(int*)x).AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Mad(Vector256<short> acc, Vector256<byte> u, byte* x) => acc + Dot(u, x);

    /// <summary>Eight fp16 values as floats, exactly (see <see cref="InterleavedMatMul"/>'s scale conversion).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Halves(byte* p)
    {
        var h = Avx2.ConvertToVector256Int32((ushort*)p).AsUInt32();
        var magnitude = ((h & Vector256.Create(0x7FFFu)) << 13).AsSingle() * Vector256.Create(0x77800000u).AsSingle();
        return (magnitude.AsUInt32() | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Touches the next group-block: the weights stream from memory once per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Prefetch(byte* p, int bytes)
    {
        for (var i = 0; i < bytes; i += 64)
        {
            Sse.Prefetch0(p + i);
        }
    }
}
