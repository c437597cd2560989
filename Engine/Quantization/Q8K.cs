namespace Fathom.Engine.Quantization;

/// <summary>
/// Q8_K, the activation format paired with k-quant weights: blocks of 256, 292 bytes — f32 <c>d</c>, 256 int8
/// <c>q</c>, 16 int16 <c>bsums</c> (the sum of each group of 16 q). value = q·d.
/// </summary>
public static class Q8K
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 256;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 292;

    internal const int QsOffset = 4;
    internal const int BsumsOffset = 260;

    /// <summary>Bytes needed for <paramref name="n"/> elements (a multiple of <see cref="BlockSize"/>).</summary>
    public static long RowBytes(long n) => n / BlockSize * BlockBytes;

    /// <summary>Dequantizes <paramref name="n"/> elements.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q8K));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Q8K), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Q8K), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var block = source.Slice(b * BlockBytes, BlockBytes);
            var d = BitConverter.ToSingle(block);
            for (var j = 0; j < BlockSize; j++)
            {
                destination[(b * BlockSize) + j] = d * (sbyte)block[QsOffset + j];
            }
        }
    }

    /// <summary>
    /// Quantizes as llama.cpp does: iscale = −127/(signed value of largest magnitude), q = min(127, round(x·iscale)),
    /// d = 1/iscale (so d is negative when the largest value is positive), plus the 16-element group sums.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Q8K));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(Q8K), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(Q8K), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var x = source.Slice(b * BlockSize, BlockSize);
            var block = destination.Slice(b * BlockBytes, BlockBytes);
            float max = 0, amax = 0;
            for (var j = 0; j < BlockSize; j++)
            {
                var ax = MathF.Abs(x[j]);
                if (ax > amax)
                {
                    amax = ax;
                    max = x[j];
                }
            }

            if (amax == 0)
            {
                block.Clear();
                continue;
            }

            var iscale = -127f / max;
            for (var j = 0; j < BlockSize; j++)
            {
                block[QsOffset + j] = (byte)(sbyte)Math.Min(127, KQuantSearch.NearestInt(iscale * x[j]));
            }

            for (var g = 0; g < 16; g++)
            {
                var sum = 0;
                for (var j = 0; j < 16; j++)
                {
                    sum += (sbyte)block[QsOffset + (16 * g) + j];
                }

                BitConverter.TryWriteBytes(block.Slice(BsumsOffset + (2 * g), 2), (short)sum);
            }

            BitConverter.TryWriteBytes(block, 1 / iscale);
        }
    }
}
