using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Q4_K and Q6_K weights regrouped eight rows at a time for <see cref="InterleavedKQuantMatMul"/>, the K-quant twin of
/// <see cref="InterleavedLayout"/> (llama.cpp repacks Q4_K to eight-row groups at load for the same reason). Each
/// 32-byte chunk holds four consecutive quant bytes of every row, row r in bytes 4r..4r+3, so one byte multiply-add
/// against four broadcast activation bytes leaves each row's partial dot in its own 32-bit lane: no horizontal sums.
/// <para>
/// A group of eight rows stores its super-blocks (256 elements) one after another. The per-row scales are widened
/// from packed 6-bit (Q4_K) to bytes and stored in pairs, row r's two bytes at 2r of a 16-byte run, so that a byte
/// shuffle turns them into the (s, s) 16-bit pairs a <c>vpmaddwd</c> wants and a widening load turns them into the
/// (s_j, s_j+1) pairs that multiply the activations' neighbouring group sums.
/// </para>
/// <para>
/// Q4_K group-block (1184 bytes, 8 × 144 plus 32 for the unpacked scales): d[8] and dmin[8] (fp16, row order), then
/// scales (pair p = sub-blocks 2p, 2p+1: 16 bytes at 32 + 16p), then mins (likewise at 96 + 16p), then at 160 the
/// nibbles: chunk-pair c (0..3) is eight 32-byte chunks, chunk i holding bytes 32c + 4i..+3 of every row's nibbles,
/// whose low nibbles are elements 64c + 4i..+3 (sub-block 2c) and high nibbles 64c + 32 + 4i..+3 (sub-block 2c+1).
/// </para>
/// <para>
/// Q6_K group-block (1680 bytes, 8 × 210): d[8] (fp16), then the signed scales (pair p = groups of 16 elements 2p,
/// 2p+1: 16 bytes at 16 + 16p), then at 144 thirty-two 32-byte low-nibble chunks (chunk c: low nibbles are the low 4
/// bits of elements 4c..4c+3, high nibbles those of elements 128 + 4c..+3), then at 1168 sixteen 32-byte high-bit
/// chunks (chunk c: bits 2q..2q+1 are the top 2 bits of elements 64q + 4c..+3, q = 0..3). Levels are unsigned 0..63;
/// the kernels remove the 32 offset through the activations' group sums.
/// </para>
/// Rows past the matrix's end (in the last group) are padding with zero scales and zero quants.
/// </summary>
internal static unsafe class InterleavedKQuantLayout
{
    /// <summary>Rows per group: one per 32-bit lane of a 256-bit vector.</summary>
    public const int GroupRows = 8;

    /// <summary>Bytes of one Q4_K group-block.</summary>
    public const int Q4KGroupBlock = 160 + (GroupRows * 128);

    /// <summary>Bytes of one Q6_K group-block.</summary>
    public const int Q6KGroupBlock = 144 + (GroupRows * 192);

    internal const int Q4KScales = 32;
    internal const int Q4KMins = 96;
    internal const int Q4KQuants = 160;
    internal const int Q6KScales = 16;
    internal const int Q6KLow = 144;
    internal const int Q6KHigh = 1168;

    /// <summary>Whether this process runs the interleaved K-quant kernels (every vector tier has them).</summary>
    public static bool IsSupported => KernelTiers.Current >= KernelTier.Vector128;

    /// <summary>Whether weights of <paramref name="type"/> are interleaved by this layout on this CPU.</summary>
    public static bool Supports(GgmlType type) => IsSupported && type is GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>Bytes of one group-block: eight rows' scales and quants for 256 elements.</summary>
    public static int GroupBlockBytes(GgmlType type) => type switch
    {
        GgmlType.Q4_K => Q4KGroupBlock,
        GgmlType.Q6_K => Q6KGroupBlock,
        _ => throw new NotSupportedException($"{type} weights are not interleaved as K-quants"),
    };

    /// <summary>Groups of <see cref="GroupRows"/> rows needed for <paramref name="rows"/> rows.</summary>
    public static int GroupCount(int rows) => (rows + GroupRows - 1) / GroupRows;

    /// <summary>Bytes of a whole interleaved matrix, padding rows included.</summary>
    public static long ByteSize(GgmlType type, int columns, int rows) =>
        (long)GroupCount(rows) * (columns / 256) * GroupBlockBytes(type);

    /// <summary>
    /// Regroups a row-major matrix. // source (rows, columns) in GGUF layout → destination (groups, super-blocks, group-block)
    /// Groups are independent, so up to <paramref name="threads"/> threads pack them (an 8B model's 4.6 GB took
    /// over a minute on one).
    /// </summary>
    public static void Pack(GgmlType type, byte* source, int columns, int rows, byte* destination, int threads = 1)
    {
        var groupBlock = GroupBlockBytes(type);
        var nb = QuantGuard.BlockCount(columns, 256, type.ToString());
        var blockBytes = type == GgmlType.Q4_K ? Q4K.BlockBytes : Q6K.BlockBytes;
        var rowBytes = (long)nb * blockBytes;
        PackGroups.Run(GroupCount(rows), threads, g =>
        {
            for (var b = 0; b < nb; b++)
            {
                var y = destination + ((((long)g * nb) + b) * groupBlock);
                new Span<byte>(y, groupBlock).Clear();
                for (var r = 0; r < GroupRows && (g * GroupRows) + r < rows; r++)
                {
                    var x = source + ((((long)g * GroupRows) + r) * rowBytes) + ((long)b * blockBytes);
                    if (type == GgmlType.Q4_K)
                    {
                        PackQ4K(new ReadOnlySpan<byte>(x, Q4K.BlockBytes), r, y);
                    }
                    else
                    {
                        PackQ6K(new ReadOnlySpan<byte>(x, Q6K.BlockBytes), r, y);
                    }
                }
            }
        });
    }

    private static void PackQ4K(ReadOnlySpan<byte> x, int r, byte* y)
    {
        ((ushort*)y)[r] = (ushort)(x[0] | (x[1] << 8));
        ((ushort*)y)[8 + r] = (ushort)(x[2] | (x[3] << 8));
        var packed = x.Slice(Q4K.ScalesOffset, 12);
        for (var j = 0; j < 8; j++)
        {
            var (scale, min) = Q4K.GetScaleMin(j, packed);
            y[Q4KScales + (16 * (j / 2)) + (2 * r) + (j % 2)] = (byte)scale;
            y[Q4KMins + (16 * (j / 2)) + (2 * r) + (j % 2)] = (byte)min;
        }

        fixed (byte* qs = x.Slice(Q4K.QsOffset, 128))
        {
            // Four nibble bytes move as one 32-bit word: chunk 8c + i of the group holds row r's word 8c + i.
            for (var k = 0; k < 32; k++)
            {
                *(uint*)(y + Q4KQuants + (32 * k) + (4 * r)) = ((uint*)qs)[k];
            }
        }
    }

    private static void PackQ6K(ReadOnlySpan<byte> x, int r, byte* y)
    {
        ((ushort*)y)[r] = (ushort)(x[Q6K.DOffset] | (x[Q6K.DOffset + 1] << 8));
        for (var g = 0; g < 16; g++)
        {
            y[Q6KScales + (16 * (g / 2)) + (2 * r) + (g % 2)] = x[Q6K.ScalesOffset + g];
        }

        // The block's levels in element order first (Q6K.Level per element made packing a 70B model's Q6_K tensors slow).
        Span<byte> levels = stackalloc byte[256];
        for (var half = 0; half < 2; half++)
        {
            for (var l = 0; l < 32; l++)
            {
                int ql0 = x[(64 * half) + l], ql1 = x[(64 * half) + l + 32], qh = x[Q6K.QhOffset + (32 * half) + l];
                levels[(128 * half) + l] = (byte)((ql0 & 0xF) | ((qh & 3) << 4));
                levels[(128 * half) + l + 32] = (byte)((ql1 & 0xF) | (((qh >> 2) & 3) << 4));
                levels[(128 * half) + l + 64] = (byte)((ql0 >> 4) | (((qh >> 4) & 3) << 4));
                levels[(128 * half) + l + 96] = (byte)((ql1 >> 4) | (((qh >> 6) & 3) << 4));
            }
        }

        for (var e = 0; e < 256; e++)
        {
            var level = levels[e];
            var chunk = (e % 128) / 4;
            var low = y + Q6KLow + (32 * chunk) + (4 * r) + (e % 4);
            *low |= (byte)((level & 0xF) << (e < 128 ? 0 : 4));
            var high = y + Q6KHigh + (32 * ((e % 64) / 4)) + (4 * r) + (e % 4);
            *high |= (byte)((level >> 4) << (2 * (e / 64)));
        }
    }
}
