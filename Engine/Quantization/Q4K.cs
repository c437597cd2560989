namespace Fathom.Engine.Quantization;

/// <summary>
/// GGUF type Q4_K: super-blocks of 256 elements, 144 bytes — fp16 <c>d</c>, fp16 <c>dmin</c>, 12 bytes packing
/// eight 6-bit (scale, min) pairs, then 128 bytes of nibbles. Sub-block j (32 elements) has value
/// d·scale_j·q − dmin·min_j. Each 64-element chunk c uses 32 bytes: low nibbles are sub-block 2c, high nibbles 2c+1.
/// </summary>
public static class Q4K
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 144;

    /// <summary>Offset of the packed scales within a block.</summary>
    internal const int ScalesOffset = 4;

    /// <summary>Offset of the nibbles within a block.</summary>
    internal const int QsOffset = 16;

    /// <summary>Bytes needed for <paramref name="n"/> elements (a multiple of <see cref="BlockSize"/>).</summary>
    public static long RowBytes(long n) => n / BlockSize * BlockBytes;

    /// <summary>
    /// Unpacks the 6-bit scale and min of sub-block <paramref name="j"/> from the 12 scale bytes: sub-blocks 0–3 use
    /// the low 6 bits of bytes j and j+4; sub-blocks 4–7 take their low 4 bits from byte j+4 (scale: low nibble,
    /// min: high nibble) and their top 2 bits from the spare top bits of bytes j−4 (scale) and j (min).
    /// </summary>
    internal static (int Scale, int Min) GetScaleMin(int j, ReadOnlySpan<byte> scales)
    {
        if (j < 4)
        {
            return (scales[j] & 63, scales[j + 4] & 63);
        }

        return ((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4), (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }

    /// <summary>Dequantizes <paramref name="n"/> elements.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q4K));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Q4K), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Q4K), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var block = source.Slice(b * BlockBytes, BlockBytes);
            var d = F16.Read(block, 0);
            var dmin = F16.Read(block, 2);
            var scales = block.Slice(ScalesOffset, 12);
            var y = destination.Slice(b * BlockSize, BlockSize);
            for (var c = 0; c < 4; c++)
            {
                var q = block.Slice(QsOffset + (32 * c), 32);
                var (sc0, m0) = GetScaleMin(2 * c, scales);
                var (sc1, m1) = GetScaleMin((2 * c) + 1, scales);
                float d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1;
                for (var l = 0; l < 32; l++)
                {
                    y[(64 * c) + l] = (d0 * (q[l] & 0xF)) - min0;
                    y[(64 * c) + 32 + l] = (d1 * (q[l] >> 4)) - min1;
                }
            }
        }
    }

    /// <summary>Quantizes as llama.cpp's reference Q4_K quantizer (no importance matrix) does.</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q4K));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(Q4K), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(Q4K), nameof(destination));
        Span<byte> levels = stackalloc byte[BlockSize];
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> subScales = stackalloc float[8];
        for (var b = 0; b < nb; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var block = destination.Slice(b * BlockBytes, BlockBytes);
            float maxScale = 0, maxMin = 0;
            for (var j = 0; j < 8; j++)
            {
                var xs = x.Slice(32 * j, 32);
                float sumX2 = 0;
                for (var l = 0; l < 32; l++)
                {
                    sumX2 += xs[l] * xs[l];
                }

                var avX = MathF.Sqrt(sumX2 / 32);
                for (var l = 0; l < 32; l++)
                {
                    weights[l] = avX + MathF.Abs(xs[l]);
                }

                subScales[j] = KQuantSearch.MakeQkx2Quants(
                    15, xs, weights, levels.Slice(32 * j, 32), out mins[j], scratch, -1f, 0.1f, 20);
                maxScale = MathF.Max(maxScale, subScales[j]);
                maxMin = MathF.Max(maxMin, mins[j]);
            }

            var invScale = maxScale > 0 ? 63 / maxScale : 0f;
            var invMin = maxMin > 0 ? 63 / maxMin : 0f;
            var scales = block.Slice(ScalesOffset, 12);
            scales.Clear();
            for (var j = 0; j < 8; j++)
            {
                var ls = Math.Min(63, KQuantSearch.NearestInt(invScale * subScales[j]));
                var lm = Math.Min(63, KQuantSearch.NearestInt(invMin * mins[j]));
                if (j < 4)
                {
                    scales[j] = (byte)ls;
                    scales[j + 4] = (byte)lm;
                }
                else
                {
                    scales[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    scales[j - 4] |= (byte)((ls >> 4) << 6);
                    scales[j] |= (byte)((lm >> 4) << 6);
                }
            }

            F16.Write(block, 0, maxScale / 63);
            F16.Write(block, 2, maxMin / 63);
            var d = F16.Read(block, 0);
            var dmin = F16.Read(block, 2);
            for (var j = 0; j < 8; j++)
            {
                var (sc, m) = GetScaleMin(j, scales);
                var dj = d * sc;
                if (dj == 0)
                {
                    continue;
                }

                var dm = dmin * m;
                for (var l = 0; l < 32; l++)
                {
                    levels[(32 * j) + l] = (byte)Math.Clamp(KQuantSearch.NearestInt((x[(32 * j) + l] + dm) / dj), 0, 15);
                }
            }

            var qs = block.Slice(QsOffset, 128);
            for (var c = 0; c < 4; c++)
            {
                for (var l = 0; l < 32; l++)
                {
                    qs[(32 * c) + l] = (byte)(levels[(64 * c) + l] | (levels[(64 * c) + 32 + l] << 4));
                }
            }
        }
    }
}
