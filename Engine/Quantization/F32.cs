namespace Fathom.Engine.Quantization;

/// <summary>GGUF type F32: little-endian IEEE-754 binary32, one element per 4 bytes.</summary>
public static class F32
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 1;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 4;

    /// <summary>Bytes needed for <paramref name="n"/> elements.</summary>
    public static long RowBytes(long n) => n * BlockBytes;

    /// <summary>Reads <paramref name="n"/> floats from raw little-endian bytes.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        QuantGuard.BlockCount(n, BlockSize, nameof(F32));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(F32), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(F32), nameof(destination));
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(source[..(n * BlockBytes)]).CopyTo(destination);
    }

    /// <summary>Writes <paramref name="n"/> floats as raw little-endian bytes.</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        QuantGuard.BlockCount(n, BlockSize, nameof(F32));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(F32), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(F32), nameof(destination));
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(source[..n]).CopyTo(destination);
    }
}
