namespace Fathom.Engine.Quantization;

/// <summary>
/// GGUF type Q6_K: super-blocks of 256 elements, 210 bytes — ql[128] (low 4 bits), qh[64] (high 2 bits),
/// int8 scales[16] (one per 16 elements), fp16 <c>d</c>; value = d·scale·(q − 32). Within each 128-element half
/// (ql += 64, qh += 32), for l in 0..31: element l = ql[l] low | qh[l] bits 0–1; l+32 = ql[l+32] low | qh bits 2–3;
/// l+64 = ql[l] high | qh bits 4–5; l+96 = ql[l+32] high | qh bits 6–7.
/// </summary>
public static class Q6K
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 210;

    internal const int QhOffset = 128;
    internal const int ScalesOffset = 192;
    internal const int DOffset = 208;

    /// <summary>Bytes needed for <paramref name="n"/> elements (a multiple of <see cref="BlockSize"/>).</summary>
    public static long RowBytes(long n) => n / BlockSize * BlockBytes;

    /// <summary>The unsigned 6-bit level (0..63) of element <paramref name="e"/> of a block.</summary>
    internal static int Level(ReadOnlySpan<byte> block, int e)
    {
        var half = e / 128;
        var r = e % 128;
        var quarter = r / 32;
        var l = r % 32;
        var ql = block[(64 * half) + l + (quarter % 2 == 1 ? 32 : 0)];
        var low = quarter < 2 ? ql & 0xF : ql >> 4;
        var high = (block[QhOffset + (32 * half) + l] >> (2 * quarter)) & 3;
        return low | (high << 4);
    }

    /// <summary>Dequantizes <paramref name="n"/> elements.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q6K));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Q6K), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Q6K), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var block = source.Slice(b * BlockBytes, BlockBytes);
            var d = F16.Read(block, DOffset);
            var y = destination.Slice(b * BlockSize, BlockSize);
            for (var e = 0; e < BlockSize; e++)
            {
                y[e] = d * (sbyte)block[ScalesOffset + (e / 16)] * (Level(block, e) - 32);
            }
        }
    }

    /// <summary>Quantizes as llama.cpp's reference Q6_K quantizer (no importance matrix) does.</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q6K));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(Q6K), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(Q6K), nameof(destination));
        Span<byte> levels = stackalloc byte[BlockSize];
        Span<float> groupScales = stackalloc float[16];
        for (var b = 0; b < nb; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var block = destination.Slice(b * BlockBytes, BlockBytes);
            float maxScale = 0, maxAbsScale = 0;
            for (var g = 0; g < 16; g++)
            {
                var scale = KQuantSearch.MakeQxQuants(32, x.Slice(16 * g, 16), levels.Slice(16 * g, 16));
                groupScales[g] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }

            block.Clear();
            if (maxAbsScale < KQuantSearch.GroupMaxEps)
            {
                continue;
            }

            var iscale = -128f / maxScale;
            F16.Write(block, DOffset, 1 / iscale);
            for (var g = 0; g < 16; g++)
            {
                block[ScalesOffset + g] = (byte)(sbyte)Math.Min(127, KQuantSearch.NearestInt(iscale * groupScales[g]));
            }

            var dHalf = F16.Read(block, DOffset);
            for (var g = 0; g < 16; g++)
            {
                var d = dHalf * (sbyte)block[ScalesOffset + g];
                if (d == 0)
                {
                    continue;
                }

                for (var i = 0; i < 16; i++)
                {
                    var l = Math.Clamp(KQuantSearch.NearestInt(x[(16 * g) + i] / d), -32, 31);
                    levels[(16 * g) + i] = (byte)(l + 32);
                }
            }

            for (var half = 0; half < 2; half++)
            {
                var lv = levels.Slice(128 * half, 128);
                var ql = block.Slice(64 * half, 64);
                var qh = block.Slice(QhOffset + (32 * half), 32);
                for (var l = 0; l < 32; l++)
                {
                    ql[l] = (byte)((lv[l] & 0xF) | ((lv[l + 64] & 0xF) << 4));
                    ql[l + 32] = (byte)((lv[l + 32] & 0xF) | ((lv[l + 96] & 0xF) << 4));
                    qh[l] = (byte)((lv[l] >> 4) | ((lv[l + 32] >> 4) << 2) | ((lv[l + 64] >> 4) << 4) | ((lv[l + 96] >> 4) << 6));
                }
            }
        }
    }
}
