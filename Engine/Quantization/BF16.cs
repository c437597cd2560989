using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Quantization;

/// <summary>
/// GGUF type BF16: the top 16 bits of an IEEE binary32. Conversion from f32 rounds to nearest even; NaNs stay NaN
/// (forced quiet), as ggml does.
/// </summary>
public static class BF16
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 1;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 2;

    /// <summary>Bytes needed for <paramref name="n"/> elements.</summary>
    public static long RowBytes(long n) => n * BlockBytes;

    /// <summary>Converts one float to bf16 bits.</summary>
    public static ushort FromSingle(float value)
    {
        var u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffffu) > 0x7f800000u)
        {
            return (ushort)((u >> 16) | 64);
        }

        return (ushort)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }

    /// <summary>Converts bf16 bits to a float (exact).</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Converts <paramref name="n"/> bf16 values (raw bytes) to floats.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        QuantGuard.BlockCount(n, BlockSize, nameof(BF16));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(BF16), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(BF16), nameof(destination));
        ToSingle(MemoryMarshal.Cast<byte, ushort>(source[..(n * 2)]), destination[..n]);
    }

    /// <summary>Converts <paramref name="n"/> floats to bf16 (raw bytes).</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        QuantGuard.BlockCount(n, BlockSize, nameof(BF16));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(BF16), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(BF16), nameof(destination));
        FromSingle(source[..n], MemoryMarshal.Cast<byte, ushort>(destination[..(n * 2)]));
    }

    /// <summary>Vectorised bf16 → f32 (shift into the high half).</summary>
    internal static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        var n = source.Length;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref src, (nuint)i));
                Vector512.ShiftLeft(lo, 16).StoreUnsafe(ref dst, (nuint)i);
                Vector512.ShiftLeft(hi, 16).StoreUnsafe(ref dst, (nuint)(i + 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref src, (nuint)i));
                Vector256.ShiftLeft(lo, 16).StoreUnsafe(ref dst, (nuint)i);
                Vector256.ShiftLeft(hi, 16).StoreUnsafe(ref dst, (nuint)(i + 8));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)i));
                Vector128.ShiftLeft(lo, 16).StoreUnsafe(ref dst, (nuint)i);
                Vector128.ShiftLeft(hi, 16).StoreUnsafe(ref dst, (nuint)(i + 4));
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref dst, i) = (uint)Unsafe.Add(ref src, i) << 16;
        }
    }

    /// <summary>Vectorised f32 → bf16 with round-to-nearest-even and quiet NaNs.</summary>
    internal static void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        ref var src = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref var dst = ref MemoryMarshal.GetReference(destination);
        var n = source.Length;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= n; i += 32)
            {
                var lo = Round512(Vector512.LoadUnsafe(ref src, (nuint)i));
                var hi = Round512(Vector512.LoadUnsafe(ref src, (nuint)(i + 16)));
                Vector512.Narrow(lo, hi).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var lo = Round256(Vector256.LoadUnsafe(ref src, (nuint)i));
                var hi = Round256(Vector256.LoadUnsafe(ref src, (nuint)(i + 8)));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref dst, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref dst, i) = FromSingle(BitConverter.UInt32BitsToSingle(Unsafe.Add(ref src, i)));
        }
    }

    private static Vector512<uint> Round512(Vector512<uint> u)
    {
        var isNan = Vector512.GreaterThan(u & Vector512.Create(0x7fffffffu), Vector512.Create(0x7f800000u));
        var rounded = (u + Vector512.Create(0x7fffu) + (Vector512.ShiftRightLogical(u, 16) & Vector512<uint>.One)) >> 16;
        var nan = Vector512.ShiftRightLogical(u, 16) | Vector512.Create(64u);
        return Vector512.ConditionalSelect(isNan, nan, rounded);
    }

    private static Vector256<uint> Round256(Vector256<uint> u)
    {
        var isNan = Vector256.GreaterThan(u & Vector256.Create(0x7fffffffu), Vector256.Create(0x7f800000u));
        var rounded = (u + Vector256.Create(0x7fffu) + (Vector256.ShiftRightLogical(u, 16) & Vector256<uint>.One)) >> 16;
        var nan = Vector256.ShiftRightLogical(u, 16) | Vector256.Create(64u);
        return Vector256.ConditionalSelect(isNan, nan, rounded);
    }
}
