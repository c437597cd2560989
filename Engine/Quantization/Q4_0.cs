namespace Fathom.Engine.Quantization;

/// <summary>
/// GGUF type Q4_0: blocks of 32 elements, 18 bytes — fp16 scale <c>d</c> then 16 bytes of nibbles. Element j is the
/// low nibble of byte j for j &lt; 16 and the high nibble of byte j−16 otherwise; value = (q − 8)·d.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "The GGUF type name.")]
public static class Q4_0
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 18;

    /// <summary>Bytes needed for <paramref name="n"/> elements (a multiple of <see cref="BlockSize"/>).</summary>
    public static long RowBytes(long n) => n / BlockSize * BlockBytes;

    /// <summary>Dequantizes <paramref name="n"/> elements.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q4_0));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Q4_0), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Q4_0), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var block = source.Slice(b * BlockBytes, BlockBytes);
            var d = F16.Read(block, 0);
            var y = destination.Slice(b * BlockSize, BlockSize);
            for (var j = 0; j < 16; j++)
            {
                y[j] = ((block[2 + j] & 0xF) - 8) * d;
                y[j + 16] = ((block[2 + j] >> 4) - 8) * d;
            }
        }
    }

    /// <summary>
    /// Quantizes as llama.cpp's reference quantizer does: d = (signed value of largest magnitude)/−8,
    /// q = min(15, trunc(x/d + 8.5)).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q4_0));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(Q4_0), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(Q4_0), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var block = destination.Slice(b * BlockBytes, BlockBytes);
            float amax = 0, max = 0;
            for (var j = 0; j < BlockSize; j++)
            {
                if (amax < MathF.Abs(x[j]))
                {
                    amax = MathF.Abs(x[j]);
                    max = x[j];
                }
            }

            var d = max / -8;
            var id = d != 0 ? 1 / d : 0;
            F16.Write(block, 0, d);
            for (var j = 0; j < 16; j++)
            {
                var lo = Math.Min(15, (int)((x[j] * id) + 8.5f));
                var hi = Math.Min(15, (int)((x[j + 16] * id) + 8.5f));
                block[2 + j] = (byte)(lo | (hi << 4));
            }
        }
    }
}
