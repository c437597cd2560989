using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kernels256 = Fathom.Engine.Quantization.InterleavedKernels<Fathom.Engine.Quantization.MaddubsDot>;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The Avx512 tier's prefill kernel for Q8_0: two neighbouring row groups of <see cref="InterleavedLayout"/> (sixteen
/// rows, one per 32-bit lane of a 512-bit vector) against eight activation rows, so that each broadcast activation word
/// feeds sixteen rows. The byte dot is <see cref="MaddubsDot.Q8_0"/>'s (|w| times the activation carrying w's sign,
/// <c>vpmaddubsw</c>, then <c>vpmaddwd</c> by ones), with the sign applied by a masked subtract since AVX-512 has no
/// <c>vpsignb</c>; the block's exact integer dot and its one FMA are the same as <see cref="InterleavedKernels{TDot}"/>'
/// (w == 0 lanes take the unnegated activation, but |w| = 0 there), so every output is bit-identical to theirs.
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "GGUF type names.")]
internal static unsafe class InterleavedQ8_0Avx512
{
    private const int GroupBlock = Kernels256.Q8_0GroupBlock;
    private const int ActivationBlock = Kernels256.ActivationBlock;

    /// <summary>
    /// Rows of groups <paramref name="w0"/> (outputs 0..7) and <paramref name="w1"/> (outputs 8..15) times eight
    /// activation rows, <paramref name="aStride"/> bytes apart, with their block sums and scales in
    /// <paramref name="info"/> (2·nb ints per activation, as <see cref="InterleavedMatMul.BlockInfo"/> writes them);
    /// activation t's sixteen outputs at <c>y + t·yStride</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0x8(byte* w0, byte* w1, int nb, byte* a, nint aStride, int* info, float* y, nint yStride)
    {
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        nint s = aStride, s3 = 3 * aStride;
        for (var b = 0; b < nb; b++, w0 += GroupBlock, w1 += GroupBlock, a += ActivationBlock)
        {
            Kernels256.Prefetch(w0 + (Kernels256.PrefetchDistance * GroupBlock), GroupBlock);
            Kernels256.Prefetch(w1 + (Kernels256.PrefetchDistance * GroupBlock), GroupBlock);
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default, i6 = default, i7 = default;
            var x0 = a + 2;
            var x1 = x0 + s;
            for (var j = 0; j < 32; j += 8)
            {
                // Two chunks (elements j..j+7) per pass, each chunk's |w| and sign mask shared by the eight activations.
                var w = Chunk(w0 + 16 + (8 * j), w1 + 16 + (8 * j));
                var u = Avx512BW.Abs(w.AsSByte());
                var negative = Vector512.LessThan(w, Vector512<sbyte>.Zero);
                i0 = Dot(i0, u, negative, x0 + j);
                i1 = Dot(i1, u, negative, x0 + s + j);
                i2 = Dot(i2, u, negative, x0 + (2 * s) + j);
                i3 = Dot(i3, u, negative, x0 + s3 + j);
                i4 = Dot(i4, u, negative, x0 + (4 * s) + j);
                i5 = Dot(i5, u, negative, x1 + (4 * s) + j);
                i6 = Dot(i6, u, negative, x0 + (2 * s3) + j);
                i7 = Dot(i7, u, negative, x1 + (2 * s3) + j);
                w = Chunk(w0 + 48 + (8 * j), w1 + 48 + (8 * j));
                u = Avx512BW.Abs(w.AsSByte());
                negative = Vector512.LessThan(w, Vector512<sbyte>.Zero);
                i0 = Dot(i0, u, negative, x0 + j + 4);
                i1 = Dot(i1, u, negative, x0 + s + j + 4);
                i2 = Dot(i2, u, negative, x0 + (2 * s) + j + 4);
                i3 = Dot(i3, u, negative, x0 + s3 + j + 4);
                i4 = Dot(i4, u, negative, x0 + (4 * s) + j + 4);
                i5 = Dot(i5, u, negative, x1 + (4 * s) + j + 4);
                i6 = Dot(i6, u, negative, x0 + (2 * s3) + j + 4);
                i7 = Dot(i7, u, negative, x1 + (2 * s3) + j + 4);
            }

            var scales = Vector512.Create(MaddubsDot.Scales(w0), MaddubsDot.Scales(w1));
            acc0 = Accumulate(acc0, scales, info + (0 * nb) + (2 * b), i0);
            acc1 = Accumulate(acc1, scales, info + (2 * nb) + (2 * b), i1);
            acc2 = Accumulate(acc2, scales, info + (4 * nb) + (2 * b), i2);
            acc3 = Accumulate(acc3, scales, info + (6 * nb) + (2 * b), i3);
            acc4 = Accumulate(acc4, scales, info + (8 * nb) + (2 * b), i4);
            acc5 = Accumulate(acc5, scales, info + (10 * nb) + (2 * b), i5);
            acc6 = Accumulate(acc6, scales, info + (12 * nb) + (2 * b), i6);
            acc7 = Accumulate(acc7, scales, info + (14 * nb) + (2 * b), i7);
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

    /// <summary>One 32-byte chunk of each group side by side: four weights of each of the sixteen rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Chunk(byte* q0, byte* q1) =>
        Avx512F.InsertVector256(Vector256.Load((sbyte*)q0).ToVector512Unsafe(), Vector256.Load((sbyte*)q1), 1);

    /// <summary>Per row lane: Σ |w|·(±x) over its four weights and the four activation bytes at x, added to acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<int> acc, Vector512<byte> u, Vector512<sbyte> negative, byte* x)
    {
        var v = Vector512.Create(*(int*)x).AsSByte();
        var signed = Vector512.ConditionalSelect(negative, Vector512<sbyte>.Zero - v, v);
        return acc + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, signed), Vector512.Create((short)1));
    }

    /// <summary>The block's step, as <see cref="MaddubsDot.Accumulate"/>: fma(row scales · d_a, dot, acc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Accumulate(Vector512<float> acc, Vector512<float> scales, int* blockInfo, Vector512<int> dot) =>
        Avx512F.FusedMultiplyAdd(scales * *(float*)(blockInfo + 1), Avx512F.ConvertToVector512Single(dot), acc);
}
