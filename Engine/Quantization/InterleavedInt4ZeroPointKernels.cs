using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The <see cref="InterleavedInt4ZeroPointLayout"/> kernels, written once over a tier's <typeparamref name="TDot"/>
/// (the Q4_0 steps of <see cref="IInterleavedDot"/>): one group of eight rows against one or four Q8_0 activation
/// rows. Per block and output the integer dot is exact (<c>Σ q·x − z·Σ x</c>, in any order), then one
/// <see cref="IInterleavedDot.Accumulate"/> with <c>s·d_x</c>, over the blocks in order; so within a tier an output
/// depends neither on how many activations were batched nor on its neighbours. Arguments as for
/// <see cref="InterleavedKernels{TDot}.Rows"/>.
/// </summary>
internal static unsafe class InterleavedInt4ZeroPointKernels<TDot>
    where TDot : struct, IInterleavedDot
{
    private const int GroupBlock = InterleavedInt4ZeroPointLayout.GroupBlockBytes;
    private const int Quants = InterleavedInt4ZeroPointLayout.QuantsOffset;
    private const int Zeros = InterleavedInt4ZeroPointLayout.ZerosOffset;
    private const int ActivationBlock = 34;
    private const int PrefetchDistance = 8;

    /// <summary>Rows [first, last) (first a multiple of eight) against <paramref name="count"/> activation rows.</summary>
    public static void Rows(
        byte* weights, int rows, int columns, int first, int last,
        byte* a, int aRow, int* info, int count, float* y, int yStride)
    {
        const int Group = InterleavedInt4ZeroPointLayout.GroupRows;
        var nb = columns / 32;
        var groupBytes = (long)nb * GroupBlock;
        float* partial = stackalloc float[4 * Group]; // (4, 8): a group that runs past the last row writes here first
        for (var row = first; row < last; row += Group)
        {
            var w = weights + (row / Group * groupBytes);
            var valid = Math.Min(Group, rows - row);
            var whole = valid == Group;
            var t = 0;
            for (; t + 4 <= count; t += 4)
            {
                X4(w, nb, a + ((long)t * aRow), aRow, info + (2L * t * nb), whole ? y + ((long)t * yStride) + row : partial, whole ? (nint)yStride : Group);
                for (var i = 0; !whole && i < 4; i++)
                {
                    new Span<float>(partial + (i * Group), valid).CopyTo(new Span<float>(y + ((long)(t + i) * yStride) + row, valid));
                }
            }

            for (; t < count; t++)
            {
                X1(w, nb, a + ((long)t * aRow), info + (2L * t * nb), whole ? y + ((long)t * yStride) + row : partial);
                if (!whole)
                {
                    new Span<float>(partial, valid).CopyTo(new Span<float>(y + ((long)t * yStride) + row, valid));
                }
            }
        }
    }

    /// <summary>Eight rows times one activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void X1(byte* w, int nb, byte* a, int* info, float* y)
    {
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, w += GroupBlock, a += ActivationBlock)
        {
            Prefetch(w + (PrefetchDistance * GroupBlock));
            var q = w + Quants;
            var x = a + 2;
            var i = Vector256<int>.Zero;
            for (var c = 0; c < 16; c += 4, q += 32)
            {
                var v = Vector256.Load(q);
                i = TDot.Q4_0(i, LowNibbles(v), HighNibbles(v), x + c);
            }

            i = TDot.Widen(i) - ZeroTerm(ZeroPoints(w + Zeros), info[2 * b]);
            acc = TDot.Accumulate(acc, TDot.Scales(w) * Scale(info, b), i);
        }

        acc.Store(y);
    }

    /// <summary>Eight rows times four activation rows, <paramref name="aStride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void X4(byte* w, int nb, byte* a, nint aStride, int* info, float* y, nint yStride)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        byte* a0 = a, a1 = a + aStride, a2 = a + (2 * aStride), a3 = a + (3 * aStride);
        for (var b = 0; b < nb; b++, w += GroupBlock, a0 += ActivationBlock, a1 += ActivationBlock, a2 += ActivationBlock, a3 += ActivationBlock)
        {
            Prefetch(w + (PrefetchDistance * GroupBlock));
            var q = w + Quants;
            var i0 = Vector256<int>.Zero;
            var i1 = Vector256<int>.Zero;
            var i2 = Vector256<int>.Zero;
            var i3 = Vector256<int>.Zero;
            // Unrolled as the Q4_0 kernel is: a loop here made the JIT spill the four accumulators.
            var v0 = Vector256.Load(q + 0);
            var lo0 = LowNibbles(v0);
            var hi0 = HighNibbles(v0);
            i0 = TDot.Q4_0(i0, lo0, hi0, a0 + 2);
            i1 = TDot.Q4_0(i1, lo0, hi0, a1 + 2);
            i2 = TDot.Q4_0(i2, lo0, hi0, a2 + 2);
            i3 = TDot.Q4_0(i3, lo0, hi0, a3 + 2);
            var v1 = Vector256.Load(q + 32);
            var lo1 = LowNibbles(v1);
            var hi1 = HighNibbles(v1);
            i0 = TDot.Q4_0(i0, lo1, hi1, a0 + 6);
            i1 = TDot.Q4_0(i1, lo1, hi1, a1 + 6);
            i2 = TDot.Q4_0(i2, lo1, hi1, a2 + 6);
            i3 = TDot.Q4_0(i3, lo1, hi1, a3 + 6);
            var v2 = Vector256.Load(q + 64);
            var lo2 = LowNibbles(v2);
            var hi2 = HighNibbles(v2);
            i0 = TDot.Q4_0(i0, lo2, hi2, a0 + 10);
            i1 = TDot.Q4_0(i1, lo2, hi2, a1 + 10);
            i2 = TDot.Q4_0(i2, lo2, hi2, a2 + 10);
            i3 = TDot.Q4_0(i3, lo2, hi2, a3 + 10);
            var v3 = Vector256.Load(q + 96);
            var lo3 = LowNibbles(v3);
            var hi3 = HighNibbles(v3);
            i0 = TDot.Q4_0(i0, lo3, hi3, a0 + 14);
            i1 = TDot.Q4_0(i1, lo3, hi3, a1 + 14);
            i2 = TDot.Q4_0(i2, lo3, hi3, a2 + 14);
            i3 = TDot.Q4_0(i3, lo3, hi3, a3 + 14);
            var z = ZeroPoints(w + Zeros);
            i0 = TDot.Widen(i0) - ZeroTerm(z, info[2 * b]);
            i1 = TDot.Widen(i1) - ZeroTerm(z, info[(2 * nb) + (2 * b)]);
            i2 = TDot.Widen(i2) - ZeroTerm(z, info[(4 * nb) + (2 * b)]);
            i3 = TDot.Widen(i3) - ZeroTerm(z, info[(6 * nb) + (2 * b)]);

            var scales = TDot.Scales(w);
            acc0 = TDot.Accumulate(acc0, scales * Scale(info, b), i0);
            acc1 = TDot.Accumulate(acc1, scales * Scale(info, nb + b), i1);
            acc2 = TDot.Accumulate(acc2, scales * Scale(info, (2 * nb) + b), i2);
            acc3 = TDot.Accumulate(acc3, scales * Scale(info, (3 * nb) + b), i3);
        }

        acc0.Store(y);
        acc1.Store(y + yStride);
        acc2.Store(y + (2 * yStride));
        acc3.Store(y + (3 * yStride));
    }

    /// <summary>The eight rows' zero points as int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ZeroPoints(byte* z)
    {
        if (Avx2.IsSupported)
        {
            return Avx2.ConvertToVector256Int32(z);
        }

        var words = Vector128.WidenLower(Vector128.CreateScalar(*(ulong*)z).AsByte());
        return Vector256.Create(Vector128.WidenLower(words).AsInt32(), Vector128.WidenUpper(words).AsInt32());
    }

    /// <summary>z·Σ x per row (at most 16 · 4,064: exact in int32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ZeroTerm(Vector256<int> zeros, int sum) =>
        Vector256.IsHardwareAccelerated
            ? zeros * Vector256.Create(sum)
            : Vector256.Create(zeros.GetLower() * sum, zeros.GetUpper() * sum);

    /// <summary>Touches the group-block <see cref="PrefetchDistance"/> blocks ahead (see <see cref="InterleavedKernels{TDot}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte* p)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(p);
            Sse.Prefetch0(p + 64);
            Sse.Prefetch0(p + 128);
            Sse.Prefetch0(p + GroupBlock - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scale(int* info, int block) => *(float*)(info + (2 * block) + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LowNibbles(Vector256<byte> v) => v & Vector256.Create((byte)0x0F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HighNibbles(Vector256<byte> v) => (v.AsUInt16() >> 4).AsByte() & Vector256.Create((byte)0x0F);
}
