namespace Fathom.Engine.Quantization;

/// <summary>
/// <see cref="InterleavedInt4ZeroPointLayout"/> weights (AWQ, GPTQ) against Q8_0 activations, in the instruction set of
/// <see cref="InterleavedLayout.Tier"/>. Activations and <c>info</c> are those of <see cref="InterleavedMatMul"/>
/// (the per-block Σ q and scale from <see cref="InterleavedMatMul.BlockInfo"/>). A GPTQ <c>desc_act</c> matrix, whose
/// stored columns are the inputs in <c>g_idx</c> order, meets its activations gathered into that order first
/// (<see cref="RowsInColumnOrder"/>).
/// </summary>
internal static unsafe class InterleavedInt4ZeroPointMatMul
{
    [ThreadStatic]
    private static float[]? t_gathered; // (count, columns): activations in the stored column order

    [ThreadStatic]
    private static byte[]? t_quantized; // (count, columns/32 · 34 bytes)

    [ThreadStatic]
    private static int[]? t_info; // (count, columns/32, 2)

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
            default:
                InterleavedInt4ZeroPointKernels<PortableDot>.Rows(weights, rows, columns, first, last, a, aRow, info, count, y, yStride);
                break;
        }
    }

    /// <summary>
    /// As <see cref="Rows"/>, for a matrix whose stored column i is input <c>order[i]</c>: the f32 activations are
    /// gathered into the stored order and quantized here (once per call, a small cost next to the rows' dots), so the
    /// groups stay contiguous. Quantizing the gathered row gives other Q8_0 blocks than the input's own, so outputs
    /// match the dequantized weights to int8 activation rounding, as every Q8_0-activation kernel does.
    /// // x (count, xStride floats); y as for <see cref="Rows"/>
    /// </summary>
    public static void RowsInColumnOrder(
        byte* weights, int rows, int columns, int[] order, int first, int last,
        float* x, int xStride, int count, float* y, int yStride)
    {
        ArgumentNullException.ThrowIfNull(order);
        var nb = columns / Q8_0.BlockSize;
        var aRow = (int)Q8_0.RowBytes(columns);
        var gathered = t_gathered is { } g && g.Length >= count * columns ? g : t_gathered = GC.AllocateUninitializedArray<float>(count * columns, pinned: true);
        var quantized = t_quantized is { } q && q.Length >= count * aRow ? q : t_quantized = GC.AllocateUninitializedArray<byte>(count * aRow, pinned: true);
        var info = t_info is { } i && i.Length >= 2 * count * nb ? i : t_info = GC.AllocateUninitializedArray<int>(2 * count * nb, pinned: true);
        fixed (float* xs = gathered)
        fixed (byte* a = quantized)
        fixed (int* sums = info)
        fixed (int* columnOf = order)
        {
            for (var t = 0; t < count; t++)
            {
                var source = x + ((long)t * xStride);
                var row = xs + ((long)t * columns);
                for (var c = 0; c < columns; c++)
                {
                    row[c] = source[columnOf[c]];
                }

                ActivationQuantizer.Q8_0Row(row, a + ((long)t * aRow), columns);
            }

            InterleavedMatMul.BlockInfo(a, count, nb, sums);
            Rows(weights, rows, columns, first, last, a, aRow, sums, count, y, yStride);
        }
    }
}
