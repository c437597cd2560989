using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Q8_0 and Q4_0 weights regrouped eight rows at a time for <see cref="InterleavedMatMul"/>, the layout llama.cpp's
/// CPU backend also repacks to at load. With one row per 32-bit lane, a single <c>vpdpbusd</c> multiplies four
/// consecutive weights of eight rows by the same four activation bytes (broadcast), so eight outputs accumulate
/// side by side in one vector: no horizontal sums, and the eight row scales are one vector too.
/// <para>
/// A group of eight rows stores its blocks one after another; each group-block holds the eight fp16 scales
/// (16 bytes, row order) and then the quants in 32-byte chunks, each chunk four bytes per row:
/// Q8_0 (272 bytes per group-block, as many as eight plain blocks): chunk j (0..7) holds elements 4j..4j+3 of every
/// row, stored as <c>q + 128</c> so they are unsigned where the tier's byte dot wants that (AVX-VNNI), else as q
/// (see <see cref="Q8_0Offset"/>; the layout is decided at load from <see cref="Tier"/>, like the kernels). Q4_0 (144 bytes): chunk c (0..3) holds the block's bytes
/// 4c..4c+3 of every row, so its low nibbles are elements 4c..4c+3 and its high nibbles elements 16+4c..16+4c+3,
/// as unsigned 0..15. The kernels subtract the offsets (128, 8) times each activation block's sum.
/// Rows past the matrix's end (the last group) are padding with scale 0.
/// </para>
/// </summary>
internal static unsafe class InterleavedLayout
{
    /// <summary>Rows per group: one per 32-bit lane of a 256-bit vector.</summary>
    public const int GroupRows = 8;

    /// <summary>
    /// The tier whose kernels this process runs: <see cref="KernelTiers.Current"/>, except that AVX-VNNI's
    /// <c>vpdpbusd</c> is preferred wherever the runtime offers it (a CPU with both AVX-512 and AVX-VNNI), since .NET
    /// exposes no 512-bit VNNI. Packing follows it too (<see cref="Q8_0Offset"/>), emulated tiers included.
    /// </summary>
    public static KernelTier Tier { get; } = KernelTiers.Supports(KernelTier.AvxVnni) ? KernelTier.AvxVnni : KernelTiers.Current;

    /// <summary>Whether this CPU runs the interleaved kernels (every tier with vector hardware).</summary>
    public static bool IsSupported => Tier >= KernelTier.Vector128;

    /// <summary>What <see cref="Pack"/> adds to each Q8_0 weight for this process's kernels (128 or 0).</summary>
    public static int Q8_0Offset => Tier switch
    {
        KernelTier.AvxVnni => VnniDot.Q8_0Offset,
        KernelTier.Avx2 or KernelTier.Avx512 => MaddubsDot.Q8_0Offset,
        KernelTier.NeonDot => DpDot.Q8_0Offset,
        _ => PortableDot.Q8_0Offset,
    };

    /// <summary>Whether weights of <paramref name="type"/> are interleaved on this CPU.</summary>
    public static bool Supports(GgmlType type) => IsSupported && type is GgmlType.Q8_0 or GgmlType.Q4_0;

    /// <summary>Bytes of one group-block: eight rows' scales and quants for 32 elements.</summary>
    public static int GroupBlockBytes(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => 16 + (GroupRows * 32),
        GgmlType.Q4_0 => 16 + (GroupRows * 16),
        _ => throw new NotSupportedException($"{type} weights are not interleaved"),
    };

    /// <summary>Groups of <see cref="GroupRows"/> rows needed for <paramref name="rows"/> rows.</summary>
    public static int GroupCount(int rows) => (rows + GroupRows - 1) / GroupRows;

    /// <summary>Bytes of a whole interleaved matrix, padding rows included.</summary>
    public static long ByteSize(GgmlType type, int columns, int rows) =>
        (long)GroupCount(rows) * (columns / 32) * GroupBlockBytes(type);

    /// <summary>
    /// Regroups a row-major matrix. // source (rows, columns) in GGUF layout → destination (groups, blocks, group-block)
    /// </summary>
    public static void Pack(GgmlType type, byte* source, int columns, int rows, byte* destination, int threads = 1)
    {
        var groupBlock = GroupBlockBytes(type);
        var nb = QuantGuard.BlockCount(columns, 32, type.ToString());
        var blockBytes = type == GgmlType.Q8_0 ? Q8_0.BlockBytes : Q4_0.BlockBytes;
        var rowBytes = (long)nb * blockBytes;
        var chunks = type == GgmlType.Q8_0 ? 8 : 4;
        var padding = type == GgmlType.Q8_0 ? (byte)Q8_0Offset : (byte)0x88; // a zero weight either way
        var flip = type == GgmlType.Q8_0 ? (byte)Q8_0Offset : (byte)0;
        PackGroups.Run(GroupCount(rows), threads, g =>
        {
            for (var b = 0; b < nb; b++)
            {
                var y = destination + ((((long)g * nb) + b) * groupBlock);
                for (var r = 0; r < GroupRows; r++)
                {
                    var row = (g * GroupRows) + r;
                    if (row >= rows)
                    {
                        ((ushort*)y)[r] = 0;
                        for (var c = 0; c < chunks; c++)
                        {
                            new Span<byte>(y + 16 + (c * 32) + (r * 4), 4).Fill(padding);
                        }

                        continue;
                    }

                    var x = source + (row * rowBytes) + ((long)b * blockBytes);
                    ((ushort*)y)[r] = *(ushort*)x;
                    for (var c = 0; c < chunks; c++)
                    {
                        for (var e = 0; e < 4; e++)
                        {
                            y[16 + (c * 32) + (r * 4) + e] = (byte)(x[2 + (c * 4) + e] ^ flip);
                        }
                    }
                }
            }
        });
    }
}
