using System.Runtime.CompilerServices;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Q4_K and Q6_K matmul over <see cref="InterleavedKQuantLayout"/> weights against Q8_K activations, on the kernels of
/// this process's <see cref="KernelTier"/>: <see cref="InterleavedKQuantAvx2"/> (Avx2, AvxVnni and Avx512 tiers; eight
/// activations at a time on Avx512, four elsewhere, then one; on Avx512, Q4_K's eight-activation steps take two whole
/// groups at once through <see cref="InterleavedKQuantAvx512"/>) or <see cref="InterleavedKQuantVector128"/> (Vector128 and
/// NeonDot tiers, the latter through <c>sdot</c>; four activations at a time, then one). Every kernel computes each output with the same sequence, so results depend neither on the batch size nor
/// on how the rows were split among threads. Callers check <see cref="InterleavedKQuantLayout.IsSupported"/>.
/// </summary>
internal static unsafe class InterleavedKQuantMatMul
{
    /// <summary>
    /// Rows [first, last) (first a multiple of the group size) of an interleaved <paramref name="type"/> matrix of
    /// <paramref name="rows"/> × <paramref name="columns"/> against <paramref name="count"/> Q8_K activation rows.
    /// // weights (groups, super-blocks, group-block); a (count, aRow bytes); y (count, yStride), element (t, r) at y[t·yStride + r]
    /// </summary>
    public static void Rows(
        GgmlType type, byte* weights, int rows, int columns, int first, int last,
        byte* a, int aRow, int count, float* y, int yStride) =>
        Rows(type, weights, rows, columns, first, last, a, aRow, count, y, yStride, KernelTiers.Current);

    /// <summary>As <see cref="Rows(GgmlType, byte*, int, int, int, int, byte*, int, int, float*, int)"/> on the kernels of a
    /// given <paramref name="tier"/> (which this process must support), for tests that compare the tiers.</summary>
    public static void Rows(
        GgmlType type, byte* weights, int rows, int columns, int first, int last,
        byte* a, int aRow, int count, float* y, int yStride, KernelTier tier)
    {
        const int Group = InterleavedKQuantLayout.GroupRows;
        var nb = columns / 256;
        var groupBytes = (long)nb * InterleavedKQuantLayout.GroupBlockBytes(type);
        var pairs = tier == KernelTier.Avx512 && type == GgmlType.Q4_K;
        float* partial = stackalloc float[8 * Group]; // (8, 8): a group that runs past the last row writes here first
        for (var row = first; row < last; row += Group)
        {
            var w = weights + (row / Group * groupBytes);
            var t = 0;
            if (pairs && row + (2 * Group) <= Math.Min(last, rows))
            {
                // Two whole groups side by side in 512-bit vectors, eight activations at a time; the rest per group below.
                for (; t + 8 <= count; t += 8)
                {
                    InterleavedKQuantAvx512.Q4Kx8(w, w + groupBytes, nb, a + ((long)t * aRow), aRow, y + ((long)t * yStride) + row, yStride);
                }

                OneGroup(type, w, nb, Group, t, a, aRow, count, y + row, yStride, tier, partial);
                row += Group;
                w += groupBytes;
            }

            OneGroup(type, w, nb, Math.Min(Group, rows - row), t, a, aRow, count, y + row, yStride, tier, partial);
        }
    }

    /// <summary>
    /// One group of eight rows (<paramref name="valid"/> of them real) against activations [t, count), its outputs at
    /// <c>y + t·yStride</c> (a group that runs past the last row goes through <paramref name="partial"/>).
    /// </summary>
    /// <remarks>Compiled optimized at once, as the F16/BF16 drivers are: it runs once per group (63k times per decode
    /// step of a 1B model), and tier-0 code can stay in place while both cores are busy and the tiering thread starves.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneGroup(
        GgmlType type, byte* w, int nb, int valid, int t, byte* a, int aRow, int count, float* y, int yStride, KernelTier tier, float* partial)
    {
        const int Group = InterleavedKQuantLayout.GroupRows;
        var isQ4K = type == GgmlType.Q4_K;
        var wide = tier >= KernelTier.Avx2;
        var eight = tier == KernelTier.Avx512;
        var dot = tier == KernelTier.NeonDot;
        var whole = valid == Group;
        for (; eight && t + 8 <= count; t += 8)
        {
            var output = whole ? y + ((long)t * yStride) : partial;
            var stride = whole ? (nint)yStride : Group;
            if (isQ4K)
            {
                InterleavedKQuantAvx2.Q4Kx8(w, nb, a + ((long)t * aRow), aRow, output, stride);
            }
            else
            {
                InterleavedKQuantAvx2.Q6Kx8(w, nb, a + ((long)t * aRow), aRow, output, stride);
            }

            CopyPartial(partial, valid, 8, y + ((long)t * yStride), yStride);
        }

        for (; wide && t + 4 <= count; t += 4)
        {
            var output = whole ? y + ((long)t * yStride) : partial;
            var stride = whole ? (nint)yStride : Group;
            if (isQ4K)
            {
                InterleavedKQuantAvx2.Q4Kx4(w, nb, a + ((long)t * aRow), aRow, output, stride);
            }
            else
            {
                InterleavedKQuantAvx2.Q6Kx4(w, nb, a + ((long)t * aRow), aRow, output, stride);
            }

            CopyPartial(partial, valid, 4, y + ((long)t * yStride), yStride);
        }

        for (; !wide && t + 4 <= count; t += 4)
        {
            var output = whole ? y + ((long)t * yStride) : partial;
            var stride = whole ? (nint)yStride : Group;
            if (dot)
            {
                Narrow4<KQuantDpDot>(isQ4K, w, nb, a + ((long)t * aRow), aRow, output, stride);
            }
            else
            {
                Narrow4<KQuantWidenedDot>(isQ4K, w, nb, a + ((long)t * aRow), aRow, output, stride);
            }

            CopyPartial(partial, valid, 4, y + ((long)t * yStride), yStride);
        }

        for (; t < count; t++)
        {
            var output = whole ? y + ((long)t * yStride) : partial;
            var x = a + ((long)t * aRow);
            switch (wide, isQ4K)
            {
                case (true, true): InterleavedKQuantAvx2.Q4Kx1(w, nb, x, output); break;
                case (true, false): InterleavedKQuantAvx2.Q6Kx1(w, nb, x, output); break;
                case (false, true) when dot: InterleavedKQuantVector128.Q4Kx1<KQuantDpDot>(w, nb, x, output); break;
                case (false, true): InterleavedKQuantVector128.Q4Kx1<KQuantWidenedDot>(w, nb, x, output); break;
                case (false, false) when dot: InterleavedKQuantVector128.Q6Kx1<KQuantDpDot>(w, nb, x, output); break;
                default: InterleavedKQuantVector128.Q6Kx1<KQuantWidenedDot>(w, nb, x, output); break;
            }

            CopyPartial(partial, valid, 1, y + ((long)t * yStride), yStride);
        }
    }

    /// <summary>Eight rows times four activation rows on the <see cref="InterleavedKQuantVector128"/> kernels of <typeparamref name="TDot"/>.</summary>
    private static void Narrow4<TDot>(bool isQ4K, byte* w, int nb, byte* a, int aRow, float* y, nint yStride)
        where TDot : struct, IKQuantDot128
    {
        if (isQ4K)
        {
            InterleavedKQuantVector128.Q4Kx4<TDot>(w, nb, a, aRow, y, yStride);
        }
        else
        {
            InterleavedKQuantVector128.Q6Kx4<TDot>(w, nb, a, aRow, y, yStride);
        }
    }

    /// <summary>For a group past the matrix's end: its valid outputs, from the scratch rows, to where they belong.</summary>
    private static void CopyPartial(float* partial, int valid, int activations, float* y, int yStride)
    {
        if (valid == InterleavedKQuantLayout.GroupRows)
        {
            return;
        }

        for (var i = 0; i < activations; i++)
        {
            new Span<float>(partial + (i * InterleavedKQuantLayout.GroupRows), valid).CopyTo(new Span<float>(y + ((long)i * yStride), valid));
        }
    }
}
