using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The interleaved kernels, written once over a tier's <typeparamref name="TDot"/>: one group of eight rows against
/// one, four or (Q8_0, where <see cref="IInterleavedDot.EightAtOnce"/>) eight Q8_0 activation rows, eight outputs per
/// activation in the lanes of one vector. For every output the sequence is the same whatever the kernel: per block,
/// the exact integer dot (<c>Σ (q_w + offset)·q_a − offset·Σ q_a</c>, where the integer order does not matter), then
/// <see cref="IInterleavedDot.Accumulate"/> over the blocks in order. So within a tier an output depends neither on
/// how many activations were batched nor on which rows shared its group's chunk. On the Avx512 tier, Q8_0's
/// eight-activation steps over two whole groups go to <see cref="InterleavedQ8_0Avx512"/>, which keeps that sequence.
/// See <see cref="InterleavedMatMul"/> for the arguments.
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "GGUF type names.")]
internal static unsafe class InterleavedKernels<TDot>
    where TDot : struct, IInterleavedDot
{
    internal const int Q8_0GroupBlock = 16 + (8 * 32);
    private const int Q4_0GroupBlock = 16 + (8 * 16);
    internal const int ActivationBlock = 34;
    internal const int PrefetchDistance = 8;

    /// <summary>
    /// Rows [first, last) (first a multiple of the group size) of an interleaved <paramref name="type"/> matrix of
    /// <paramref name="rows"/> × <paramref name="columns"/> against <paramref name="count"/> activation rows: each group
    /// meets the activations eight or four at a time. // weights (groups, blocks, group-block); a (count, aRow bytes);
    /// info (count, columns/32, 2); y (count, yStride), element (t, r) at y[t·yStride + r]. Q8_0 takes eight activations
    /// at a time where it can (each weight chunk loaded once for eight dots; x8 needs more registers than Q4_0's unpacking
    /// leaves).
    /// </summary>
    public static void Rows(
        GgmlType type, byte* weights, int rows, int columns, int first, int last,
        byte* a, int aRow, int* info, int count, float* y, int yStride)
    {
        const int Group = InterleavedLayout.GroupRows;
        var nb = columns / 32;
        var groupBytes = (long)nb * InterleavedLayout.GroupBlockBytes(type);
        var isQ8_0 = type == GgmlType.Q8_0;
        float* partial = stackalloc float[8 * Group]; // (8, 8): a group that runs past the last row writes here first
        for (var row = first; row < last; row += Group)
        {
            var w = weights + (row / Group * groupBytes);
            var valid = Math.Min(Group, rows - row);
            var t = 0;
            if (isQ8_0 && typeof(TDot) == typeof(MaddubsDot) && KernelTiers.Current == KernelTier.Avx512 && row + (2 * Group) <= Math.Min(last, rows))
            {
                // Two whole groups side by side in 512-bit vectors (bit-identical outputs); leftover activations per group.
                for (; t + 8 <= count; t += 8)
                {
                    InterleavedQ8_0Avx512.Q8_0x8(w, w + groupBytes, nb, a + ((long)t * aRow), aRow, info + (2L * t * nb), y + ((long)t * yStride) + row, yStride);
                }

                if (t < count)
                {
                    Rows(type, weights, rows, columns, row, row + Group, a + ((long)t * aRow), aRow, info + (2L * t * nb), count - t, y + ((long)t * yStride), yStride);
                }

                row += Group;
                w += groupBytes;
                if (t < count)
                {
                    Rows(type, weights, rows, columns, row, row + Group, a + ((long)t * aRow), aRow, info + (2L * t * nb), count - t, y + ((long)t * yStride), yStride);
                }

                continue;
            }

            for (; isQ8_0 && TDot.EightAtOnce && t + 8 <= count; t += 8)
            {
                var whole = valid == Group;
                Q8_0x8(w, nb, a + ((long)t * aRow), aRow, info + (2L * t * nb), whole ? y + ((long)t * yStride) + row : partial, whole ? (nint)yStride : Group);
                for (var i = 0; !whole && i < 8; i++)
                {
                    new Span<float>(partial + (i * Group), valid).CopyTo(new Span<float>(y + ((long)(t + i) * yStride) + row, valid));
                }
            }

            for (; t + 4 <= count; t += 4)
            {
                var whole = valid == Group;
                var output = whole ? y + ((long)t * yStride) + row : partial;
                var stride = whole ? (nint)yStride : Group;
                if (isQ8_0)
                {
                    Q8_0x4(w, nb, a + ((long)t * aRow), aRow, info + (2L * t * nb), output, stride);
                }
                else
                {
                    Q4_0x4(w, nb, a + ((long)t * aRow), aRow, info + (2L * t * nb), output, stride);
                }

                for (var i = 0; !whole && i < 4; i++)
                {
                    new Span<float>(partial + (i * Group), valid).CopyTo(new Span<float>(y + ((long)(t + i) * yStride) + row, valid));
                }
            }

            for (; t < count; t++)
            {
                var output = valid == Group ? y + ((long)t * yStride) + row : partial;
                if (isQ8_0)
                {
                    Q8_0x1(w, nb, a + ((long)t * aRow), info + (2L * t * nb), output);
                }
                else
                {
                    Q4_0x1(w, nb, a + ((long)t * aRow), info + (2L * t * nb), output);
                }

                if (valid < Group)
                {
                    new Span<float>(partial, valid).CopyTo(new Span<float>(y + ((long)t * yStride) + row, valid));
                }
            }
        }
    }

    /// <summary>Eight rows of Q8_0 weights times one activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0x1(byte* w, int nb, byte* a, int* info, float* y)
    {
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, w += Q8_0GroupBlock, a += ActivationBlock)
        {
            var q = w + 16;
            var x = a + 2;

            // Two integer chains keep the multiply-adds in flight; integer sums are exact in any order.
            var even = Offset(info + (2 * b));
            var odd = Vector256<int>.Zero;
            for (var j = 0; j < 32; j += 8, q += 64)
            {
                even = TDot.Q8_0(even, Vector256.Load(q), x + j);
                odd = TDot.Q8_0(odd, Vector256.Load(q + 32), x + j + 4);
            }

            acc = TDot.Accumulate(acc, TDot.Scales(w) * Scale(info, b), even + odd);
        }

        acc.Store(y);
    }

    /// <summary>Eight rows of Q8_0 weights times four activation rows, <paramref name="aStride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0x4(byte* w, int nb, byte* a, nint aStride, int* info, float* y, nint yStride)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        byte* a0 = a, a1 = a + aStride, a2 = a + (2 * aStride), a3 = a + (3 * aStride);
        for (var b = 0; b < nb; b++, w += Q8_0GroupBlock, a0 += ActivationBlock, a1 += ActivationBlock, a2 += ActivationBlock, a3 += ActivationBlock)
        {
            Prefetch(w + (PrefetchDistance * Q8_0GroupBlock), Q8_0GroupBlock);
            var q = w + 16;
            var i0 = Offset(info + (2 * b));
            var i1 = Offset(info + (2 * nb) + (2 * b));
            var i2 = Offset(info + (4 * nb) + (2 * b));
            var i3 = Offset(info + (6 * nb) + (2 * b));
            // Unrolled: a loop here made the JIT spill the four accumulators on every iteration.
            var w0 = Vector256.Load(q + 0);
            i0 = TDot.Q8_0(i0, w0, a0 + 2);
            i1 = TDot.Q8_0(i1, w0, a1 + 2);
            i2 = TDot.Q8_0(i2, w0, a2 + 2);
            i3 = TDot.Q8_0(i3, w0, a3 + 2);
            var w1 = Vector256.Load(q + 32);
            i0 = TDot.Q8_0(i0, w1, a0 + 6);
            i1 = TDot.Q8_0(i1, w1, a1 + 6);
            i2 = TDot.Q8_0(i2, w1, a2 + 6);
            i3 = TDot.Q8_0(i3, w1, a3 + 6);
            var w2 = Vector256.Load(q + 64);
            i0 = TDot.Q8_0(i0, w2, a0 + 10);
            i1 = TDot.Q8_0(i1, w2, a1 + 10);
            i2 = TDot.Q8_0(i2, w2, a2 + 10);
            i3 = TDot.Q8_0(i3, w2, a3 + 10);
            var w3 = Vector256.Load(q + 96);
            i0 = TDot.Q8_0(i0, w3, a0 + 14);
            i1 = TDot.Q8_0(i1, w3, a1 + 14);
            i2 = TDot.Q8_0(i2, w3, a2 + 14);
            i3 = TDot.Q8_0(i3, w3, a3 + 14);
            var w4 = Vector256.Load(q + 128);
            i0 = TDot.Q8_0(i0, w4, a0 + 18);
            i1 = TDot.Q8_0(i1, w4, a1 + 18);
            i2 = TDot.Q8_0(i2, w4, a2 + 18);
            i3 = TDot.Q8_0(i3, w4, a3 + 18);
            var w5 = Vector256.Load(q + 160);
            i0 = TDot.Q8_0(i0, w5, a0 + 22);
            i1 = TDot.Q8_0(i1, w5, a1 + 22);
            i2 = TDot.Q8_0(i2, w5, a2 + 22);
            i3 = TDot.Q8_0(i3, w5, a3 + 22);
            var w6 = Vector256.Load(q + 192);
            i0 = TDot.Q8_0(i0, w6, a0 + 26);
            i1 = TDot.Q8_0(i1, w6, a1 + 26);
            i2 = TDot.Q8_0(i2, w6, a2 + 26);
            i3 = TDot.Q8_0(i3, w6, a3 + 26);
            var w7 = Vector256.Load(q + 224);
            i0 = TDot.Q8_0(i0, w7, a0 + 30);
            i1 = TDot.Q8_0(i1, w7, a1 + 30);
            i2 = TDot.Q8_0(i2, w7, a2 + 30);
            i3 = TDot.Q8_0(i3, w7, a3 + 30);

            var scales = TDot.Scales(w);
            acc0 = TDot.Accumulate(acc0, scales * Scale(info, b), i0);
            acc1 = TDot.Accumulate(acc1, scales * Scale(info, (nb + b)), i1);
            acc2 = TDot.Accumulate(acc2, scales * Scale(info, (2 * nb) + b), i2);
            acc3 = TDot.Accumulate(acc3, scales * Scale(info, (3 * nb) + b), i3);
        }

        acc0.Store(y);
        acc1.Store(y + yStride);
        acc2.Store(y + (2 * yStride));
        acc3.Store(y + (3 * yStride));
    }

    /// <summary>Eight rows of Q8_0 weights times eight activation rows, <paramref name="aStride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0x8(byte* w, int nb, byte* a, nint aStride, int* info, float* y, nint yStride)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        byte* a0 = a + (0 * aStride), a1 = a + (1 * aStride), a2 = a + (2 * aStride), a3 = a + (3 * aStride), a4 = a + (4 * aStride), a5 = a + (5 * aStride), a6 = a + (6 * aStride), a7 = a + (7 * aStride);
        for (var b = 0; b < nb; b++, w += Q8_0GroupBlock, a0 += ActivationBlock, a1 += ActivationBlock, a2 += ActivationBlock, a3 += ActivationBlock, a4 += ActivationBlock, a5 += ActivationBlock, a6 += ActivationBlock, a7 += ActivationBlock)
        {
            Prefetch(w + (PrefetchDistance * Q8_0GroupBlock), Q8_0GroupBlock);
            var q = w + 16;
            var i0 = Offset(info + (0 * nb) + (2 * b));
            var i1 = Offset(info + (2 * nb) + (2 * b));
            var i2 = Offset(info + (4 * nb) + (2 * b));
            var i3 = Offset(info + (6 * nb) + (2 * b));
            var i4 = Offset(info + (8 * nb) + (2 * b));
            var i5 = Offset(info + (10 * nb) + (2 * b));
            var i6 = Offset(info + (12 * nb) + (2 * b));
            var i7 = Offset(info + (14 * nb) + (2 * b));
            var w0 = Vector256.Load(q + 0);
            i0 = TDot.Q8_0(i0, w0, a0 + 2);
            i1 = TDot.Q8_0(i1, w0, a1 + 2);
            i2 = TDot.Q8_0(i2, w0, a2 + 2);
            i3 = TDot.Q8_0(i3, w0, a3 + 2);
            i4 = TDot.Q8_0(i4, w0, a4 + 2);
            i5 = TDot.Q8_0(i5, w0, a5 + 2);
            i6 = TDot.Q8_0(i6, w0, a6 + 2);
            i7 = TDot.Q8_0(i7, w0, a7 + 2);
            var w1 = Vector256.Load(q + 32);
            i0 = TDot.Q8_0(i0, w1, a0 + 6);
            i1 = TDot.Q8_0(i1, w1, a1 + 6);
            i2 = TDot.Q8_0(i2, w1, a2 + 6);
            i3 = TDot.Q8_0(i3, w1, a3 + 6);
            i4 = TDot.Q8_0(i4, w1, a4 + 6);
            i5 = TDot.Q8_0(i5, w1, a5 + 6);
            i6 = TDot.Q8_0(i6, w1, a6 + 6);
            i7 = TDot.Q8_0(i7, w1, a7 + 6);
            var w2 = Vector256.Load(q + 64);
            i0 = TDot.Q8_0(i0, w2, a0 + 10);
            i1 = TDot.Q8_0(i1, w2, a1 + 10);
            i2 = TDot.Q8_0(i2, w2, a2 + 10);
            i3 = TDot.Q8_0(i3, w2, a3 + 10);
            i4 = TDot.Q8_0(i4, w2, a4 + 10);
            i5 = TDot.Q8_0(i5, w2, a5 + 10);
            i6 = TDot.Q8_0(i6, w2, a6 + 10);
            i7 = TDot.Q8_0(i7, w2, a7 + 10);
            var w3 = Vector256.Load(q + 96);
            i0 = TDot.Q8_0(i0, w3, a0 + 14);
            i1 = TDot.Q8_0(i1, w3, a1 + 14);
            i2 = TDot.Q8_0(i2, w3, a2 + 14);
            i3 = TDot.Q8_0(i3, w3, a3 + 14);
            i4 = TDot.Q8_0(i4, w3, a4 + 14);
            i5 = TDot.Q8_0(i5, w3, a5 + 14);
            i6 = TDot.Q8_0(i6, w3, a6 + 14);
            i7 = TDot.Q8_0(i7, w3, a7 + 14);
            var w4 = Vector256.Load(q + 128);
            i0 = TDot.Q8_0(i0, w4, a0 + 18);
            i1 = TDot.Q8_0(i1, w4, a1 + 18);
            i2 = TDot.Q8_0(i2, w4, a2 + 18);
            i3 = TDot.Q8_0(i3, w4, a3 + 18);
            i4 = TDot.Q8_0(i4, w4, a4 + 18);
            i5 = TDot.Q8_0(i5, w4, a5 + 18);
            i6 = TDot.Q8_0(i6, w4, a6 + 18);
            i7 = TDot.Q8_0(i7, w4, a7 + 18);
            var w5 = Vector256.Load(q + 160);
            i0 = TDot.Q8_0(i0, w5, a0 + 22);
            i1 = TDot.Q8_0(i1, w5, a1 + 22);
            i2 = TDot.Q8_0(i2, w5, a2 + 22);
            i3 = TDot.Q8_0(i3, w5, a3 + 22);
            i4 = TDot.Q8_0(i4, w5, a4 + 22);
            i5 = TDot.Q8_0(i5, w5, a5 + 22);
            i6 = TDot.Q8_0(i6, w5, a6 + 22);
            i7 = TDot.Q8_0(i7, w5, a7 + 22);
            var w6 = Vector256.Load(q + 192);
            i0 = TDot.Q8_0(i0, w6, a0 + 26);
            i1 = TDot.Q8_0(i1, w6, a1 + 26);
            i2 = TDot.Q8_0(i2, w6, a2 + 26);
            i3 = TDot.Q8_0(i3, w6, a3 + 26);
            i4 = TDot.Q8_0(i4, w6, a4 + 26);
            i5 = TDot.Q8_0(i5, w6, a5 + 26);
            i6 = TDot.Q8_0(i6, w6, a6 + 26);
            i7 = TDot.Q8_0(i7, w6, a7 + 26);
            var w7 = Vector256.Load(q + 224);
            i0 = TDot.Q8_0(i0, w7, a0 + 30);
            i1 = TDot.Q8_0(i1, w7, a1 + 30);
            i2 = TDot.Q8_0(i2, w7, a2 + 30);
            i3 = TDot.Q8_0(i3, w7, a3 + 30);
            i4 = TDot.Q8_0(i4, w7, a4 + 30);
            i5 = TDot.Q8_0(i5, w7, a5 + 30);
            i6 = TDot.Q8_0(i6, w7, a6 + 30);
            i7 = TDot.Q8_0(i7, w7, a7 + 30);
            var scales = TDot.Scales(w);
            acc0 = TDot.Accumulate(acc0, scales * Scale(info, (0 * nb) + b), i0);
            acc1 = TDot.Accumulate(acc1, scales * Scale(info, (1 * nb) + b), i1);
            acc2 = TDot.Accumulate(acc2, scales * Scale(info, (2 * nb) + b), i2);
            acc3 = TDot.Accumulate(acc3, scales * Scale(info, (3 * nb) + b), i3);
            acc4 = TDot.Accumulate(acc4, scales * Scale(info, (4 * nb) + b), i4);
            acc5 = TDot.Accumulate(acc5, scales * Scale(info, (5 * nb) + b), i5);
            acc6 = TDot.Accumulate(acc6, scales * Scale(info, (6 * nb) + b), i6);
            acc7 = TDot.Accumulate(acc7, scales * Scale(info, (7 * nb) + b), i7);
        }

        acc0.Store(y + (0 * yStride));
        acc1.Store(y + (1 * yStride));
        acc2.Store(y + (2 * yStride));
        acc3.Store(y + (3 * yStride));
        acc4.Store(y + (4 * yStride));
        acc5.Store(y + (5 * yStride));
        acc6.Store(y + (6 * yStride));
        acc7.Store(y + (7 * yStride));
    }

    /// <summary>Eight rows of Q4_0 weights times one activation row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4_0x1(byte* w, int nb, byte* a, int* info, float* y)
    {
        var acc = Vector256<float>.Zero;
        for (var b = 0; b < nb; b++, w += Q4_0GroupBlock, a += ActivationBlock)
        {
            var q = w + 16;
            var x = a + 2;
            var low = Vector256.Create(-(info[2 * b] << 3));
            var high = Vector256<int>.Zero;
            for (var c = 0; c < 16; c += 4, q += 32)
            {
                var v = Vector256.Load(q);
                low = TDot.Dot(low, LowNibbles(v), x + c);
                high = TDot.Dot(high, HighNibbles(v), x + 16 + c);
            }

            acc = TDot.Accumulate(acc, TDot.Scales(w) * Scale(info, b), low + high);
        }

        acc.Store(y);
    }

    /// <summary>Eight rows of Q4_0 weights times four activation rows, <paramref name="aStride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4_0x4(byte* w, int nb, byte* a, nint aStride, int* info, float* y, nint yStride)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        byte* a0 = a, a1 = a + aStride, a2 = a + (2 * aStride), a3 = a + (3 * aStride);
        for (var b = 0; b < nb; b++, w += Q4_0GroupBlock, a0 += ActivationBlock, a1 += ActivationBlock, a2 += ActivationBlock, a3 += ActivationBlock)
        {
            Prefetch(w + (PrefetchDistance * Q4_0GroupBlock), Q4_0GroupBlock);
            var q = w + 16;
            var i0 = Vector256<int>.Zero;
            var i1 = Vector256<int>.Zero;
            var i2 = Vector256<int>.Zero;
            var i3 = Vector256<int>.Zero;
            // Partial sums in the tier's narrow form until the block ends (see IInterleavedDot.Q4_0).
            // Unrolled: a loop here made the JIT spill the four accumulators on every iteration.
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
            i0 = TDot.Widen(i0) + Vector256.Create(-(info[2 * b] << 3));
            i1 = TDot.Widen(i1) + Vector256.Create(-(info[(2 * nb) + (2 * b)] << 3));
            i2 = TDot.Widen(i2) + Vector256.Create(-(info[(4 * nb) + (2 * b)] << 3));
            i3 = TDot.Widen(i3) + Vector256.Create(-(info[(6 * nb) + (2 * b)] << 3));

            var scales = TDot.Scales(w);
            acc0 = TDot.Accumulate(acc0, scales * Scale(info, b), i0);
            acc1 = TDot.Accumulate(acc1, scales * Scale(info, (nb + b)), i1);
            acc2 = TDot.Accumulate(acc2, scales * Scale(info, (2 * nb) + b), i2);
            acc3 = TDot.Accumulate(acc3, scales * Scale(info, (3 * nb) + b), i3);
        }

        acc0.Store(y);
        acc1.Store(y + yStride);
        acc2.Store(y + (2 * yStride));
        acc3.Store(y + (3 * yStride));
    }

    /// <summary>
    /// Touches a group-block <see cref="PrefetchDistance"/> blocks ahead, in the kernels of four and eight activations.
    /// The weights stream from memory once per step while each block also costs up to 64 multiply-adds; without the
    /// hint the loads stalled the arithmetic (8-token decode step of the 1B model on 2 threads: 87 → 69 ms). The
    /// one-activation kernels do without it: there the hardware prefetcher keeps up with the single stream, and the
    /// hint's five instructions per block cost more than they saved (1B-shape decode on one Zen 4 thread: Q8_0
    /// 21.3/19.8 → 24.4/22.6 tok/s, Q4_0 29.8/29.3 → 36.0/37.0 tok/s; 2 threads unchanged).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Prefetch(byte* p, int bytes)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (var i = 0; i < bytes; i += 64)
        {
            Sse.Prefetch0(p + i);
        }
    }

    /// <summary>
    /// The block's <c>−offset·Σ q_a</c> in every lane; zero without reading the sum where the tier stores Q8_0 weights
    /// as they are (the JIT drops the branch per tier; the loads it replaced took a tenth of the eight-activation loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Offset(int* blockSum) =>
        TDot.Q8_0Offset == 0 ? Vector256<int>.Zero : Vector256.Create(-(*blockSum * TDot.Q8_0Offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scale(int* info, int block) => *(float*)(info + (2 * block) + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LowNibbles(Vector256<byte> v) => v & Vector256.Create((byte)0x0F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HighNibbles(Vector256<byte> v) => (v.AsUInt16() >> 4).AsByte() & Vector256.Create((byte)0x0F);
}
