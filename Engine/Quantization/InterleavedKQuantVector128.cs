using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Portable <see cref="Vector128"/> kernels over <see cref="InterleavedKQuantLayout"/> weights: the ARM64 path (and
/// SSE on an x64 with AVX2 switched off, which is how it is tested here), written once over the tier's byte dot
/// <c>TDot</c> (see <see cref="IKQuantDot128"/>): <see cref="KQuantWidenedDot"/> (the Vector128 tier)
/// or <see cref="KQuantDpDot"/> (NeonDot, <c>sdot</c>). The integers are exact, and the float steps per super-block are
/// those of <see cref="InterleavedKQuantAvx2"/>, so every tier gives the same outputs. One activation row at a time, or
/// four sharing each super-block's weights while they are in L1.
/// </summary>
internal static unsafe class InterleavedKQuantVector128
{
    private const int ActivationBlock = Q8K.BlockBytes;

    /// <summary>Eight rows of Q4_K weights times one activation row; eight outputs at <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx1<TDot>(byte* w, int nb, byte* a, float* y)
        where TDot : struct, IKQuantDot128
    {
        Vector128<float> accLow = default, accHigh = default;
        for (var b = 0; b < nb; b++, w += InterleavedKQuantLayout.Q4KGroupBlock, a += ActivationBlock)
        {
            Q4KBlock<TDot>(w, a, ref accLow, ref accHigh);
        }

        accLow.Store(y);
        accHigh.Store(y + 4);
    }

    /// <summary>
    /// Eight rows of Q4_K weights times four activation rows (<paramref name="aRow"/> bytes apart); output t at
    /// <paramref name="y"/> + t·<paramref name="yStride"/>. Each super-block's weights serve all four while they are in
    /// L1 (one activation at a time re-streamed the group's whole row from L2 per activation); every output takes the
    /// single-row kernel's exact steps, so results do not depend on the batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx4<TDot>(byte* w, int nb, byte* a, int aRow, float* y, nint yStride)
        where TDot : struct, IKQuantDot128
    {
        Vector128<float> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
        for (var b = 0; b < nb; b++, w += InterleavedKQuantLayout.Q4KGroupBlock, a += ActivationBlock)
        {
            Q4KBlock<TDot>(w, a, ref l0, ref h0);
            Q4KBlock<TDot>(w, a + aRow, ref l1, ref h1);
            Q4KBlock<TDot>(w, a + (2 * aRow), ref l2, ref h2);
            Q4KBlock<TDot>(w, a + (3 * aRow), ref l3, ref h3);
        }

        Store(y, yStride, l0, h0, l1, h1, l2, h2, l3, h3);
    }

    /// <summary>Eight rows of Q6_K weights times four activation rows; as <see cref="Q4Kx4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6Kx4<TDot>(byte* w, int nb, byte* a, int aRow, float* y, nint yStride)
        where TDot : struct, IKQuantDot128
    {
        Vector128<float> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
        for (var b = 0; b < nb; b++, w += InterleavedKQuantLayout.Q6KGroupBlock, a += ActivationBlock)
        {
            Q6KBlock<TDot>(w, a, ref l0, ref h0);
            Q6KBlock<TDot>(w, a + aRow, ref l1, ref h1);
            Q6KBlock<TDot>(w, a + (2 * aRow), ref l2, ref h2);
            Q6KBlock<TDot>(w, a + (3 * aRow), ref l3, ref h3);
        }

        Store(y, yStride, l0, h0, l1, h1, l2, h2, l3, h3);
    }

    private static void Store(float* y, nint yStride, Vector128<float> l0, Vector128<float> h0, Vector128<float> l1, Vector128<float> h1,
        Vector128<float> l2, Vector128<float> h2, Vector128<float> l3, Vector128<float> h3)
    {
        l0.Store(y);
        h0.Store(y + 4);
        l1.Store(y + yStride);
        h1.Store(y + yStride + 4);
        l2.Store(y + (2 * yStride));
        h2.Store(y + (2 * yStride) + 4);
        l3.Store(y + (3 * yStride));
        h3.Store(y + (3 * yStride) + 4);
    }

    // One super-block of eight Q4_K rows against one Q8_K activation block, added to the rows' accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KBlock<TDot>(byte* w, byte* a, ref Vector128<float> accLow, ref Vector128<float> accHigh)
        where TDot : struct, IKQuantDot128
    {
        var m4 = Vector128.Create((byte)0x0F);
        Vector128<int> r0 = default, r1 = default, r2 = default, r3 = default, r4 = default, r5 = default, r6 = default, r7 = default;
        for (var j = 0; j < 8; j++)
        {
            var q = w + InterleavedKQuantLayout.Q4KQuants + (256 * (j >> 1));
            var x = a + Q8K.QsOffset + (32 * j);
            var shift = 4 * (j & 1);
            Vector128<int> p0 = default, p1 = default, p2 = default, p3 = default;
            for (var i = 0; i < 8; i++)
            {
                var v0 = (Vector128.Load(q + (32 * i)).AsUInt16() >> shift).AsByte() & m4;
                var v1 = (Vector128.Load(q + (32 * i) + 16).AsUInt16() >> shift).AsByte() & m4;
                TDot.Chunk(ref p0, ref p1, ref p2, ref p3, v0, v1, x + (4 * i));
            }

            var s = w + InterleavedKQuantLayout.Q4KScales + (16 * (j >> 1)) + (j & 1);
            TDot.Scale(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, p0, p1, p2, p3, s[0], s[2], s[4], s[6], s[8], s[10], s[12], s[14]);
        }

        var sums = (short*)(a + Q8K.BsumsOffset);
        var mins = w + InterleavedKQuantLayout.Q4KMins;
        var da = Vector128.Create(*(float*)a);
        var (dLow, dHigh) = Halves(w);
        var (mLow, mHigh) = Halves(w + 16);
        accLow = Vector128.FusedMultiplyAdd(dLow * da, Vector128.ConvertToSingle(TDot.Rows(r0, r1, r2, r3)), accLow);
        accLow = Vector128.FusedMultiplyAdd(mLow * -da, Vector128.ConvertToSingle(Q4KMins(mins, 0, sums)), accLow);
        accHigh = Vector128.FusedMultiplyAdd(dHigh * da, Vector128.ConvertToSingle(TDot.Rows(r4, r5, r6, r7)), accHigh);
        accHigh = Vector128.FusedMultiplyAdd(mHigh * -da, Vector128.ConvertToSingle(Q4KMins(mins, 4, sums)), accHigh);
    }

    /// <summary>Eight rows of Q6_K weights times one activation row; eight outputs at <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6Kx1<TDot>(byte* w, int nb, byte* a, float* y)
        where TDot : struct, IKQuantDot128
    {
        Vector128<float> accLow = default, accHigh = default;
        for (var b = 0; b < nb; b++, w += InterleavedKQuantLayout.Q6KGroupBlock, a += ActivationBlock)
        {
            Q6KBlock<TDot>(w, a, ref accLow, ref accHigh);
        }

        accLow.Store(y);
        accHigh.Store(y + 4);
    }

    // One super-block of eight Q6_K rows against one Q8_K activation block, added to the rows' accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KBlock<TDot>(byte* w, byte* a, ref Vector128<float> accLow, ref Vector128<float> accHigh)
        where TDot : struct, IKQuantDot128
    {
        Vector128<int> r0 = default, r1 = default, r2 = default, r3 = default, r4 = default, r5 = default, r6 = default, r7 = default;
        for (var g = 0; g < 16; g++)
        {
            Vector128<int> p0 = default, p1 = default, p2 = default, p3 = default;
            for (var c = 4 * g; c < (4 * g) + 4; c++)
            {
                TDot.Chunk(ref p0, ref p1, ref p2, ref p3, Level6(w, c, 0), Level6(w, c, 16), a + Q8K.QsOffset + (4 * c));
            }

            var s = (sbyte*)(w + InterleavedKQuantLayout.Q6KScales + (16 * (g >> 1)) + (g & 1));
            TDot.Scale(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, p0, p1, p2, p3, s[0], s[2], s[4], s[6], s[8], s[10], s[12], s[14]);
        }

        var sums = (short*)(a + Q8K.BsumsOffset);
        var scales = (sbyte*)(w + InterleavedKQuantLayout.Q6KScales);
        var da = Vector128.Create(*(float*)a);
        var (dLow, dHigh) = Halves(w);
        var low = TDot.Rows(r0, r1, r2, r3) - (Q6KOffsets(scales, 0, sums) << 5);
        var high = TDot.Rows(r4, r5, r6, r7) - (Q6KOffsets(scales, 4, sums) << 5);
        accLow = Vector128.FusedMultiplyAdd(dLow * da, Vector128.ConvertToSingle(low), accLow);
        accHigh = Vector128.FusedMultiplyAdd(dHigh * da, Vector128.ConvertToSingle(high), accHigh);
    }

    /// <summary>Rows first..first+3: Σ_j min_j · (the activation's 32-element sum j).</summary>
    private static Vector128<int> Q4KMins(byte* mins, int first, short* sums)
    {
        var result = Vector128<int>.Zero;
        for (var j = 0; j < 8; j++)
        {
            var m = mins + (16 * (j >> 1)) + (j & 1) + (2 * first);
            result += Vector128.Create((int)m[0], m[2], m[4], m[6]) * (sums[2 * j] + sums[(2 * j) + 1]);
        }

        return result;
    }

    /// <summary>Rows first..first+3: Σ_g scale_g · (the activation's 16-element sum g).</summary>
    private static Vector128<int> Q6KOffsets(sbyte* scales, int first, short* sums)
    {
        var result = Vector128<int>.Zero;
        for (var g = 0; g < 16; g++)
        {
            var s = scales + (16 * (g >> 1)) + (g & 1) + (2 * first);
            result += Vector128.Create((int)s[0], s[2], s[4], s[6]) * sums[g];
        }

        return result;
    }

    /// <summary>Rows 4h..4h+3 (bytes <paramref name="half"/>..+15) of chunk c's 6-bit levels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Level6(byte* w, int c, int half)
    {
        var l = Vector128.Load(w + InterleavedKQuantLayout.Q6KLow + (32 * (c & 31)) + half);
        var h = Vector128.Load(w + InterleavedKQuantLayout.Q6KHigh + (32 * (c & 15)) + half).AsUInt16();
        var low = (c < 32 ? l : (l.AsUInt16() >> 4).AsByte()) & Vector128.Create((byte)0x0F);
        var high = (c >> 4) switch
        {
            0 => (h << 4).AsByte(),
            1 => (h << 2).AsByte(),
            2 => h.AsByte(),
            _ => (h >> 2).AsByte(),
        };
        return low | (high & Vector128.Create((byte)0x30));
    }

    /// <summary>Eight fp16 values as floats, exactly, in two halves (the bit conversion of the 256-bit kernels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> Low, Vector128<float> High) Halves(byte* p)
    {
        var h = Vector128.Load((ushort*)p);
        return (Half4(Vector128.WidenLower(h)), Half4(Vector128.WidenUpper(h)));
    }

    private static Vector128<float> Half4(Vector128<uint> h)
    {
        var magnitude = ((h & Vector128.Create(0x7FFFu)) << 13).AsSingle() * Vector128.Create(0x77800000u).AsSingle();
        return (magnitude.AsUInt32() | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }
}
