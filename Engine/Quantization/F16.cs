using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace Fathom.Engine.Quantization;

/// <summary>GGUF type F16: little-endian IEEE-754 binary16 (round-to-nearest-even on conversion from f32).</summary>
public static class F16
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 1;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 2;

    /// <summary>Bytes needed for <paramref name="n"/> elements.</summary>
    public static long RowBytes(long n) => n * BlockBytes;

    /// <summary>Converts <paramref name="n"/> halves (raw bytes) to floats.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        QuantGuard.BlockCount(n, BlockSize, nameof(F16));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(F16), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(F16), nameof(destination));
        ToSingle(MemoryMarshal.Cast<byte, ushort>(source[..(n * BlockBytes)]), destination[..n]);
    }

    /// <summary>Converts <paramref name="n"/> floats to halves (raw bytes), rounding to nearest even.</summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        QuantGuard.BlockCount(n, BlockSize, nameof(F16));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(F16), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(F16), nameof(destination));
        TensorPrimitives.ConvertToHalf(source[..n], MemoryMarshal.Cast<byte, Half>(destination[..(n * BlockBytes)]));
    }

    // The half's sign at bit 31 and its other 15 bits at bits 13-27 of a float (the half shifted to the top, then
    // arithmetically three to the right): that float is h·2^−112, sign included.
    private const uint SignAndMagnitude = 0x8FFFE000u;

    // 2^112 as float bits.
    private const uint TwoTo112 = 0x77800000u;

    /// <summary>
    /// Vectorised, exact half → float: the half's bits moved into float position read as h·2^−112, so one multiply
    /// by 2^112 (bits 0x77800000) rescales normals and subnormals alike; infinities and NaNs (exponent all ones) are patched separately.
    /// </summary>
    internal static unsafe void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length, nameof(destination));
        fixed (ushort* src = source)
        fixed (float* dst = destination)
        {
            ToSingle(src, dst, source.Length);
        }
    }

    /// <summary>
    /// <see cref="ToSingle(ReadOnlySpan{ushort}, Span{float})"/> over pointers, inlined into its caller: a loop over
    /// short rows (attention's 64- or 128-element heads) then costs no call or span per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void ToSingle(ushort* source, float* destination, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(source + i));
                Convert512(lo).Store(destination + i);
                Convert512(hi).Store(destination + i + 16);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(source + i));
                Convert256(lo).Store(destination + i);
                Convert256(hi).Store(destination + i + 8);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Load(source + i));
                Convert128(lo).Store(destination + i);
                Convert128(hi).Store(destination + i + 4);
            }
        }

        for (; i < n; i++)
        {
            destination[i] = (float)BitConverter.UInt16BitsToHalf(source[i]);
        }
    }

    /// <summary>Sixteen halves (zero-extended to 32 bits) as floats, exactly; the lane-wise form of <see cref="ToSingle(ReadOnlySpan{ushort}, Span{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Convert512(Vector512<uint> h)
    {
        var high = Vector512.ShiftLeft(h, 16);
        var special = Vector512.Equals(h & Vector512.Create(0x7c00u), Vector512.Create(0x7c00u));
        return Vector512.ConditionalSelect(special.AsSingle(), Shifted512(high) | Vector512.Create(0x7f800000u).AsSingle(), Finite512(high));
    }

    /// <summary>A finite half in the top 16 bits of each lane (whatever the low 16) as a float, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Finite512(Vector512<uint> high) => Shifted512(high) * Vector512.Create(TwoTo112).AsSingle();

    // A half in the top 16 bits of each lane as h·2^−112, sign included (an infinity or NaN as a finite float).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Shifted512(Vector512<uint> high) =>
        (Vector512.ShiftRightArithmetic(high.AsInt32(), 3).AsUInt32() & Vector512.Create(SignAndMagnitude)).AsSingle();

    /// <summary>Eight halves (zero-extended to 32 bits) as floats, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Convert256(Vector256<uint> h)
    {
        var high = Vector256.ShiftLeft(h, 16);
        var special = Vector256.Equals(h & Vector256.Create(0x7c00u), Vector256.Create(0x7c00u));
        return Vector256.ConditionalSelect(special.AsSingle(), Shifted256(high) | Vector256.Create(0x7f800000u).AsSingle(), Finite256(high));
    }

    /// <summary>A finite half in the top 16 bits of each lane (whatever the low 16) as a float, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Finite256(Vector256<uint> high) => Shifted256(high) * Vector256.Create(TwoTo112).AsSingle();

    // A half in the top 16 bits of each lane as h·2^−112, sign included (an infinity or NaN as a finite float).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Shifted256(Vector256<uint> high) =>
        (Vector256.ShiftRightArithmetic(high.AsInt32(), 3).AsUInt32() & Vector256.Create(SignAndMagnitude)).AsSingle();

    /// <summary>Four halves (zero-extended to 32 bits) as floats, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Convert128(Vector128<uint> h)
    {
        var high = Vector128.ShiftLeft(h, 16);
        var special = Vector128.Equals(h & Vector128.Create(0x7c00u), Vector128.Create(0x7c00u));
        return Vector128.ConditionalSelect(special.AsSingle(), Shifted128(high) | Vector128.Create(0x7f800000u).AsSingle(), Finite128(high));
    }

    /// <summary>A finite half in the top 16 bits of each lane (whatever the low 16) as a float, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Finite128(Vector128<uint> high) => Shifted128(high) * Vector128.Create(TwoTo112).AsSingle();

    // A half in the top 16 bits of each lane as h·2^−112, sign included (an infinity or NaN as a finite float).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Shifted128(Vector128<uint> high) =>
        (Vector128.ShiftRightArithmetic(high.AsInt32(), 3).AsUInt32() & Vector128.Create(SignAndMagnitude)).AsSingle();

    /// <summary>Reads one little-endian half at <paramref name="offset"/> as a float.</summary>
    internal static float Read(ReadOnlySpan<byte> bytes, int offset) =>
        (float)BitConverter.UInt16BitsToHalf((ushort)(bytes[offset] | (bytes[offset + 1] << 8)));

    /// <summary>Writes <paramref name="value"/> as a little-endian half at <paramref name="offset"/>.</summary>
    internal static void Write(Span<byte> bytes, int offset, float value)
    {
        var bits = BitConverter.HalfToUInt16Bits((Half)value);
        bytes[offset] = (byte)bits;
        bytes[offset + 1] = (byte)(bits >> 8);
    }

    /// <summary>Rounds a float through half precision, as a value stored in a block header would be.</summary>
    internal static float Round(float value) => (float)(Half)value;

    internal static unsafe float Read(byte* p) => (float)BitConverter.UInt16BitsToHalf(*(ushort*)p);
}
