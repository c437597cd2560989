using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// AVX2 (+AVX-VNNI where present) dot-product cores over raw pointers, without checks. Each quantized format has a
/// one-activation core and a four-activation core that reads the weight block once; both run the very same
/// per-activation sequence of operations, so an output does not depend on how many activations were batched.
/// Callers check <see cref="IsSupported"/> and fall back to <see cref="ScalarDot"/> otherwise.
/// </summary>
internal static unsafe class DotKernels
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Sum of products of unsigned bytes and signed bytes, four at a time, into int lanes: <c>vpdpbusd</c> where the
    /// kernels use it (in hardware, or emulated exactly where a test forced the AvxVnni tier).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotU8S8(Vector256<byte> u, Vector256<sbyte> s)
    {
        if (KernelTiers.UsesAvxVnni)
        {
            return VnniDot.Dpbusd(Vector256<int>.Zero, u, s);
        }

        // Pair sums fit int16 here: |u| ≤ 128 and |s| ≤ 127 for every format we pair.
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1));
    }

    /// <summary>
    /// acc += Σ pairs(u·s) · scale, with the u·s pairs summed to int16 (|u| ≤ 63, |s| ≤ 127 for the k-quants, so no
    /// saturation) and weighted by per-lane int16 scales (vpdpwssd under AVX-VNNI; its only difference from
    /// acc + vpmaddwd would be the sum of two (−32768)² products, which wraps the same way in both, so an emulated
    /// AvxVnni tier needs no emulation here).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledDot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s, Vector256<short> scale)
    {
        var pairs = Avx2.MultiplyAddAdjacent(u, s);
        return AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(acc, pairs, scale)
            : acc + Avx2.MultiplyAddAdjacent(pairs, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SignedBlock(Vector256<byte> wAbs, Vector256<sbyte> w, byte* a, float scale, Vector256<float> acc)
    {
        var s = Avx2.Sign(Vector256.Load((sbyte*)(a + 2)), w);
        var p = Avx.ConvertToVector256Single(DotU8S8(wAbs, s));
        return Fma.MultiplyAdd(Vector256.Create(scale), p, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Q4_0Weights(byte* w)
    {
        var bytes = Vector128.Load(w + 2);
        var lo = bytes & Vector128.Create((byte)0xF);
        var hi = (bytes.AsUInt16() >> 4).AsByte() & Vector128.Create((byte)0xF);
        return (Vector256.Create(lo, hi) - Vector256.Create((byte)8)).AsSByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q8_0One(byte* w, byte* a, int nb)
    {
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, w += 34, a += 34)
        {
            var wv = Vector256.Load((sbyte*)(w + 2));
            acc = SignedBlock(Avx2.Abs(wv), wv, a, HalfTable.Get(w) * HalfTable.Get(a), acc);
        }

        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0x4(byte* w, byte* a, nint stride, int nb, float* result)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < nb; b++, w += 34, a += 34)
        {
            var wv = Vector256.Load((sbyte*)(w + 2));
            var wa = Avx2.Abs(wv);
            var dw = HalfTable.Get(w);
            acc0 = SignedBlock(wa, wv, a, dw * HalfTable.Get(a), acc0);
            acc1 = SignedBlock(wa, wv, a + stride, dw * HalfTable.Get(a + stride), acc1);
            acc2 = SignedBlock(wa, wv, a + (2 * stride), dw * HalfTable.Get(a + (2 * stride)), acc2);
            acc3 = SignedBlock(wa, wv, a + (3 * stride), dw * HalfTable.Get(a + (3 * stride)), acc3);
        }

        result[0] = Vector256.Sum(acc0);
        result[1] = Vector256.Sum(acc1);
        result[2] = Vector256.Sum(acc2);
        result[3] = Vector256.Sum(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q4_0One(byte* w, byte* a, int nb)
    {
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, w += 18, a += 34)
        {
            var wv = Q4_0Weights(w);
            acc = SignedBlock(Avx2.Abs(wv), wv, a, HalfTable.Get(w) * HalfTable.Get(a), acc);
        }

        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4_0x4(byte* w, byte* a, nint stride, int nb, float* result)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (var b = 0; b < nb; b++, w += 18, a += 34)
        {
            var wv = Q4_0Weights(w);
            var wa = Avx2.Abs(wv);
            var dw = HalfTable.Get(w);
            acc0 = SignedBlock(wa, wv, a, dw * HalfTable.Get(a), acc0);
            acc1 = SignedBlock(wa, wv, a + stride, dw * HalfTable.Get(a + stride), acc1);
            acc2 = SignedBlock(wa, wv, a + (2 * stride), dw * HalfTable.Get(a + (2 * stride)), acc2);
            acc3 = SignedBlock(wa, wv, a + (3 * stride), dw * HalfTable.Get(a + (3 * stride)), acc3);
        }

        result[0] = Vector256.Sum(acc0);
        result[1] = Vector256.Sum(acc1);
        result[2] = Vector256.Sum(acc2);
        result[3] = Vector256.Sum(acc3);
    }

    /// <summary>Decoded Q4_K block: nibble planes and per-sub-block scales/mins.</summary>
    private struct Q4KBlock
    {
        public fixed int Scales[8];
        public fixed int Mins[8];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecodeQ4KScales(byte* w, ref Q4KBlock blk)
    {
        var s = w + Q4K.ScalesOffset;
        for (var j = 0; j < 4; j++)
        {
            blk.Scales[j] = s[j] & 63;
            blk.Mins[j] = s[j + 4] & 63;
            blk.Scales[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
            blk.Mins[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Q4KBlockDot(byte* w, byte* a, ref Q4KBlock blk)
    {
        var acc = Vector256<int>.Zero;
        var mask = Vector256.Create((byte)0xF);
        for (var c = 0; c < 4; c++)
        {
            var q = Vector256.Load(w + Q4K.QsOffset + (32 * c));
            var lo = q & mask;
            var hi = (q.AsUInt16() >> 4).AsByte() & mask;
            acc = ScaledDot(acc, lo, Vector256.Load((sbyte*)(a + Q8K.QsOffset + (64 * c))), Vector256.Create((short)blk.Scales[2 * c]));
            acc = ScaledDot(acc, hi, Vector256.Load((sbyte*)(a + Q8K.QsOffset + (64 * c) + 32)), Vector256.Create((short)blk.Scales[(2 * c) + 1]));
        }

        var sumi = Vector256.Sum(acc);
        var bsums = (short*)(a + Q8K.BsumsOffset);
        var summ = 0;
        for (var j = 0; j < 8; j++)
        {
            summ += blk.Mins[j] * (bsums[2 * j] + bsums[(2 * j) + 1]);
        }

        var da = *(float*)a;
        return (HalfTable.Get(w) * da * sumi) - (HalfTable.Get(w + 2) * da * summ);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q4KOne(byte* w, byte* a, int nb)
    {
        var sum = 0f;
        Q4KBlock blk = default;
        for (var b = 0; b < nb; b++, w += Q4K.BlockBytes, a += Q8K.BlockBytes)
        {
            DecodeQ4KScales(w, ref blk);
            sum += Q4KBlockDot(w, a, ref blk);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4Kx4(byte* w, byte* a, nint stride, int nb, float* result)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        Q4KBlock blk = default;
        for (var b = 0; b < nb; b++, w += Q4K.BlockBytes, a += Q8K.BlockBytes)
        {
            DecodeQ4KScales(w, ref blk);
            s0 += Q4KBlockDot(w, a, ref blk);
            s1 += Q4KBlockDot(w, a + stride, ref blk);
            s2 += Q4KBlockDot(w, a + (2 * stride), ref blk);
            s3 += Q4KBlockDot(w, a + (3 * stride), ref blk);
        }

        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Q6KBlockDot(byte* w, byte* a)
    {
        var acc = Vector256<int>.Zero;
        var m4 = Vector256.Create((byte)0x0F);
        var m30 = Vector256.Create((byte)0x30);
        var sc = (sbyte*)(w + Q6K.ScalesOffset);
        var aq = (sbyte*)(a + Q8K.QsOffset);
        for (var h = 0; h < 2; h++)
        {
            var ql0 = Vector256.Load(w + (64 * h));
            var ql1 = Vector256.Load(w + (64 * h) + 32);
            var qh = Vector256.Load(w + Q6K.QhOffset + (32 * h)).AsUInt16();
            var q1 = (ql0 & m4) | ((qh << 4).AsByte() & m30);
            var q2 = (ql1 & m4) | ((qh << 2).AsByte() & m30);
            var q3 = ((ql0.AsUInt16() >> 4).AsByte() & m4) | (qh.AsByte() & m30);
            var q4 = ((ql1.AsUInt16() >> 4).AsByte() & m4) | ((qh >> 2).AsByte() & m30);
            var g = sc + (8 * h);
            acc = ScaledDot(acc, q1, Vector256.Load(aq + (128 * h)), Halves(g[0], g[1]));
            acc = ScaledDot(acc, q2, Vector256.Load(aq + (128 * h) + 32), Halves(g[2], g[3]));
            acc = ScaledDot(acc, q3, Vector256.Load(aq + (128 * h) + 64), Halves(g[4], g[5]));
            acc = ScaledDot(acc, q4, Vector256.Load(aq + (128 * h) + 96), Halves(g[6], g[7]));
        }

        // The levels were used unsigned (0..63); remove the 32 offset through the group sums.
        var bsums = (short*)(a + Q8K.BsumsOffset);
        var offset = 0;
        for (var g = 0; g < 16; g++)
        {
            offset += ((sbyte*)(w + Q6K.ScalesOffset))[g] * bsums[g];
        }

        var sumi = Vector256.Sum(acc) - (32 * offset);
        return HalfTable.Get(w + Q6K.DOffset) * *(float*)a * sumi;
    }

    /// <summary>Scale <paramref name="lo"/> for the first 16 bytes' pairs, <paramref name="hi"/> for the last 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Halves(sbyte lo, sbyte hi) => Vector256.Create(Vector128.Create((short)lo), Vector128.Create((short)hi));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q6KOne(byte* w, byte* a, int nb)
    {
        var sum = 0f;
        for (var b = 0; b < nb; b++, w += Q6K.BlockBytes, a += Q8K.BlockBytes)
        {
            sum += Q6KBlockDot(w, a);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6Kx4(byte* w, byte* a, nint stride, int nb, float* result)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (var b = 0; b < nb; b++, w += Q6K.BlockBytes, a += Q8K.BlockBytes)
        {
            s0 += Q6KBlockDot(w, a);
            s1 += Q6KBlockDot(w, a + stride);
            s2 += Q6KBlockDot(w, a + (2 * stride));
            s3 += Q6KBlockDot(w, a + (3 * stride));
        }

        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    /// <summary>Float dot with a fixed reduction order for a given n (no alignment-dependent peeling).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F32(float* x, float* y, int n)
    {
        var i = 0;
        var sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 64 <= n; i += 64)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(y + i), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 16), Vector512.Load(y + i + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 32), Vector512.Load(y + i + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 48), Vector512.Load(y + i + 48), a3);
            }

            for (; i + 16 <= n; i += 16)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(y + i), a0);
            }

            sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default;
            for (; i + 16 <= n; i += 16)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + i + 8), Vector256.Load(y + i + 8), a1);
            }

            sum = Vector256.Sum(a0 + a1);
        }

        for (; i < n; i++)
        {
            sum += x[i] * y[i];
        }

        return sum;
    }
}
