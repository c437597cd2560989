using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Kernels over <see cref="InterleavedLayout"/> weights, in the instruction set of <see cref="InterleavedLayout.Tier"/>
/// (see <see cref="InterleavedKernels{TDot}"/> for how they keep outputs batch-invariant).
/// <para>
/// <c>info</c> holds, for each activation block, its Σ q_a (int) and its scale d_a (float bits): <c>2·nb</c> ints per
/// activation row, in the activations' order (see <see cref="BlockInfo"/>). Reading d_a from there rather than
/// through <see cref="HalfTable"/> keeps static-field access out of the loops, which made the JIT spill the accumulators.
/// Outputs go to <c>y + t·yStride</c> (eight floats for activation t). Callers check
/// <see cref="InterleavedLayout.IsSupported"/>.
/// </para>
/// </summary>
internal static unsafe class InterleavedMatMul
{
    private const int ActivationBlock = 34;

    /// <summary>
    /// Rows [first, last) (first a multiple of the group size) of an interleaved <paramref name="type"/> matrix of
    /// <paramref name="rows"/> × <paramref name="columns"/> against <paramref name="count"/> activation rows.
    /// // weights (groups, blocks, group-block); a (count, aRow bytes); info (count, columns/32, 2); y (count, yStride),
    /// element (t, r) at y[t·yStride + r].
    /// </summary>
    public static void Rows(
        GgmlType type, byte* weights, int rows, int columns, int first, int last,
        byte* a, int aRow, int* info, int count, float* y, int yStride)
    {
        switch (InterleavedLayout.Tier)
        {
            case KernelTier.AvxVnni:
                InterleavedKernels<VnniDot>.Rows(type, weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
            case KernelTier.Avx2 or KernelTier.Avx512:
                InterleavedKernels<MaddubsDot>.Rows(type, weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
            case KernelTier.NeonDot:
                InterleavedKernels<DpDot>.Rows(type, weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
            default:
                InterleavedKernels<PortableDot>.Rows(type, weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
        }
    }

    /// <summary>
    /// Each Q8_0 activation block's Σ q and scale. // a (count, nb · 34 bytes) → info (count, nb, 2): (Σ q, d bits)
    /// </summary>
    public static void BlockInfo(byte* a, int count, int nb, int* info)
    {
        for (var i = 0; i < count * nb; i++, a += ActivationBlock)
        {
            info[2 * i] = BlockSum((sbyte*)(a + 2));
            info[(2 * i) + 1] = BitConverter.SingleToInt32Bits(HalfTable.Get(a));
        }
    }

    /// <summary>The sum of 32 signed bytes (exact in any order).</summary>
    private static int BlockSum(sbyte* q)
    {
        if (Avx2.IsSupported)
        {
            var pairs = Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), Vector256.Load(q));
            return Vector256.Sum(Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1)));
        }

        var sum = 0;
        for (var j = 0; j < 32; j++)
        {
            sum += q[j];
        }

        return sum;
    }
}
