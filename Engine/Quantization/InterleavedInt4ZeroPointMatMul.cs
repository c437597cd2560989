namespace Fathom.Engine.Quantization;

/// <summary>
/// <see cref="InterleavedInt4ZeroPointLayout"/> weights (AWQ, GPTQ) against Q8_0 activations, in the instruction set of
/// <see cref="InterleavedLayout.Tier"/>. Activations and <c>info</c> are those of <see cref="InterleavedMatMul"/>
/// (the per-block Σ q and scale from <see cref="InterleavedMatMul.BlockInfo"/>). A GPTQ <c>desc_act</c> matrix, whose
/// stored columns are the inputs in <c>g_idx</c> order, meets its activations gathered into that order first
/// (<see cref="GatherRow"/>).
/// </summary>
internal static unsafe class InterleavedInt4ZeroPointMatMul
{
    [ThreadStatic]
    private static float[]? t_gathered; // (columns): one activation row in the stored column order

    /// <summary>
    /// Rows [first, last) (first a multiple of eight) of a <paramref name="rows"/> × <paramref name="columns"/> matrix
    /// against <paramref name="count"/> activation rows. // weights (groups, blocks, group-block); a (count, aRow bytes);
    /// info (count, columns/32, 2); y (count, yStride), element (t, r) at y[t·yStride + r]
    /// </summary>
    public static void Rows(
        byte* weights, int rows, int columns, int first, int last,
        byte* a, int aRow, int* info, int count, float* y, int yStride)
    {
        switch (InterleavedLayout.Tier)
        {
            case KernelTier.AvxVnni:
                InterleavedInt4ZeroPointKernels<VnniDot>.Rows(weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
            case KernelTier.Avx2 or KernelTier.Avx512:
                InterleavedInt4ZeroPointKernels<MaddubsDot>.Rows(weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
            case KernelTier.NeonDot:
                InterleavedInt4ZeroPointKernels<DpDot>.Rows(weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
            default:
                InterleavedInt4ZeroPointKernels<PortableDot>.Rows(weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
        }
    }

    /// <summary>
    /// One activation row gathered into a <c>desc_act</c> matrix's stored column order (stored column i is input
    /// <c>order[i]</c>) and quantized to Q8_0 with its block info, so that the matrix's groups stay contiguous. The
    /// gathered row's Q8_0 blocks differ from the input's own, so outputs match the dequantized weights to int8
    /// activation rounding, as every Q8_0-activation kernel does. // x (columns) → a (columns/32 · 34 bytes), info (columns/32, 2)
    /// </summary>
    public static void GatherRow(float* x, int[] order, int columns, byte* a, int* info)
    {
        ArgumentNullException.ThrowIfNull(order);
        var gathered = t_gathered is { } g && g.Length >= columns ? g : t_gathered = GC.AllocateUninitializedArray<float>(columns, pinned: true);
        fixed (float* row = gathered)
        fixed (int* columnOf = order)
        {
            for (var c = 0; c < columns; c++)
            {
                row[c] = x[columnOf[c]];
            }

            ActivationQuantizer.Q8_0Row(row, a, columns);
        }

        InterleavedMatMul.BlockInfo(a, 1, columns / Q8_0.BlockSize, info);
    }
}
