namespace Fathom.Engine.Quantization;

/// <summary>
/// <see cref="Int4ZeroPoint"/> weights (AWQ, GPTQ) regrouped eight rows at a time for
/// <see cref="InterleavedInt4ZeroPointMatMul"/>, as <see cref="InterleavedLayout"/> does for Q4_0: one row per 32-bit
/// lane, so eight outputs accumulate side by side. A group-block (152 bytes, fewer than the 160 of eight plain blocks)
/// holds the eight rows' fp16 scales (16 bytes, row order), their zero points (8 bytes, one per row, 0–16), then the
/// nibbles in four 32-byte chunks exactly as Q4_0's interleaved layout stores them (chunk c holds the block's bytes
/// 4c..4c+3 of every row: low nibbles are elements 4c..4c+3, high nibbles 16+4c..16+4c+3). Rows past the matrix's end
/// are padding with scale 0. The kernels compute each block's exact <c>Σ q·x − z·Σ x</c>, so any zero point and any
/// nibble are exact.
/// </summary>
internal static unsafe class InterleavedInt4ZeroPointLayout
{
    /// <summary>Rows per group: one per 32-bit lane of a 256-bit vector.</summary>
    public const int GroupRows = InterleavedLayout.GroupRows;

    /// <summary>Bytes of one group-block: scales, zero points and nibbles of eight rows for 32 elements.</summary>
    public const int GroupBlockBytes = 16 + GroupRows + (GroupRows * 16);

    /// <summary>Offset of the zero points within a group-block.</summary>
    public const int ZerosOffset = 16;

    /// <summary>Offset of the nibble chunks within a group-block.</summary>
    public const int QuantsOffset = ZerosOffset + GroupRows;

    /// <summary>Whether this CPU runs the kernels (the same tiers as the Q8_0/Q4_0 interleaved kernels).</summary>
    public static bool IsSupported => InterleavedLayout.IsSupported;

    /// <summary>Bytes of a whole interleaved matrix, padding rows included.</summary>
    public static long ByteSize(int columns, int rows) =>
        (long)InterleavedLayout.GroupCount(rows) * (columns / Int4ZeroPoint.BlockSize) * GroupBlockBytes;

    /// <summary>
    /// Regroups a row-major <see cref="Int4ZeroPoint"/> matrix.
    /// // source (rows, columns/32 blocks of 20 bytes) → destination (groups, blocks, group-block); they must not overlap
    /// </summary>
    public static void Pack(byte* source, int columns, int rows, byte* destination)
    {
        var nb = QuantGuard.BlockCount(columns, Int4ZeroPoint.BlockSize, nameof(Int4ZeroPoint));
        var rowBytes = Int4ZeroPoint.RowBytes(columns);
        for (var g = 0; g < InterleavedLayout.GroupCount(rows); g++)
        {
            for (var b = 0; b < nb; b++)
            {
                var y = destination + ((((long)g * nb) + b) * GroupBlockBytes);
                for (var r = 0; r < GroupRows; r++)
                {
                    var row = (g * GroupRows) + r;
                    if (row >= rows)
                    {
                        ((ushort*)y)[r] = 0;
                        y[ZerosOffset + r] = 0;
                        for (var c = 0; c < 4; c++)
                        {
                            new Span<byte>(y + QuantsOffset + (c * 32) + (r * 4), 4).Clear();
                        }

                        continue;
                    }

                    var x = source + (row * rowBytes) + ((long)b * Int4ZeroPoint.BlockBytes);
                    ((ushort*)y)[r] = *(ushort*)x;
                    y[ZerosOffset + r] = x[2];
                    for (var c = 0; c < 4; c++)
                    {
                        *(uint*)(y + QuantsOffset + (c * 32) + (r * 4)) = *(uint*)(x + Int4ZeroPoint.QsOffset + (c * 4));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Regroups <paramref name="data"/> (a row-major matrix) in place when the interleaved form fits in it (any row
    /// count that is a multiple of <see cref="GroupRows"/>): the repacked checkpoint array then serves the kernels
    /// without a second copy. Returns false, leaving the data as it was, when it does not fit.
    /// </summary>
    public static bool PackInPlace(byte[] data, int columns, int rows)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rowMajor = Int4ZeroPoint.RowBytes(columns) * rows;
        if (ByteSize(columns, rows) > data.Length || rowMajor > data.Length)
        {
            return false;
        }

        var copy = new byte[rowMajor];
        data.AsSpan(0, (int)rowMajor).CopyTo(copy);
        fixed (byte* source = copy, destination = data)
        {
            Pack(source, columns, rows, destination);
        }

        return true;
    }
}
