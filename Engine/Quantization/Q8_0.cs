using System.Runtime.InteropServices;

namespace Fathom.Engine.Quantization;

/// <summary>
/// GGUF type Q8_0: blocks of 32 elements, 34 bytes each — fp16 scale <c>d</c> then 32 int8 <c>q</c>;
/// value = q·d.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "The GGUF type name.")]
public static class Q8_0
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 34;

    /// <summary>Bytes needed for <paramref name="n"/> elements (a multiple of <see cref="BlockSize"/>).</summary>
    public static long RowBytes(long n) => n / BlockSize * BlockBytes;

    /// <summary>Dequantizes <paramref name="n"/> elements.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q8_0));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Q8_0), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Q8_0), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var block = source.Slice(b * BlockBytes, BlockBytes);
            var d = F16.Read(block, 0);
            var q = MemoryMarshal.Cast<byte, sbyte>(block[2..]);
            var y = destination.Slice(b * BlockSize, BlockSize);
            for (var j = 0; j < BlockSize; j++)
            {
                y[j] = q[j] * d;
            }
        }
    }

    /// <summary>
    /// Quantizes as llama.cpp's reference quantizer does: d = max|x|/127, q = round-half-away(x/d).
    /// This is what goes into files.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q8_0));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(Q8_0), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(Q8_0), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var block = destination.Slice(b * BlockBytes, BlockBytes);
            var amax = 0f;
            for (var j = 0; j < BlockSize; j++)
            {
                amax = MathF.Max(amax, MathF.Abs(x[j]));
            }

            var d = amax / 127;
            var id = d != 0 ? 1 / d : 0;
            F16.Write(block, 0, d);
            for (var j = 0; j < BlockSize; j++)
            {
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
            }
        }
    }
}
