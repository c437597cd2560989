using System.Runtime.Intrinsics;

namespace Fathom.Engine.Backends;

/// <summary>
/// Vectorised, exact conversions of F16 and BF16 rows to f32. F16: the 15 exponent-mantissa bits shifted into
/// f32 position and multiplied by 2^112 re-bias the exponent exactly (subnormals included); Inf/NaN get the
/// all-ones exponent back; the sign is OR-ed in. BF16 is the top half of an f32.
/// </summary>
internal static unsafe class HalfConversion
{
    public static void HalfToSingle(ushort* source, float* destination, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var magic = Vector512.Create(5.192297e33f); // 2^112
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(source + i));
                Convert512(lo, magic).Store(destination + i);
                Convert512(hi, magic).Store(destination + i + 16);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var magic = Vector256.Create(5.192297e33f);
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(source + i));
                Convert256(lo, magic).Store(destination + i);
                Convert256(hi, magic).Store(destination + i + 8);
            }
        }

        for (; i < n; i++)
        {
            destination[i] = (float)BitConverter.UInt16BitsToHalf(source[i]);
        }
    }

    public static void BFloat16ToSingle(ushort* source, float* destination, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(source + i));
                (lo << 16).AsSingle().Store(destination + i);
                (hi << 16).AsSingle().Store(destination + i + 16);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(source + i));
                (lo << 16).AsSingle().Store(destination + i);
                (hi << 16).AsSingle().Store(destination + i + 8);
            }
        }

        for (; i < n; i++)
        {
            destination[i] = BitConverter.Int32BitsToSingle(source[i] << 16);
        }
    }

    private static Vector512<float> Convert512(Vector512<uint> h, Vector512<float> magic)
    {
        var magnitude = h & Vector512.Create(0x7FFFu);
        var value = (magnitude << 13).AsSingle() * magic;
        var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u));
        var bits = Vector512.ConditionalSelect(special, value.AsUInt32() | Vector512.Create(0x7F800000u), value.AsUInt32());
        return (bits | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    private static Vector256<float> Convert256(Vector256<uint> h, Vector256<float> magic)
    {
        var magnitude = h & Vector256.Create(0x7FFFu);
        var value = (magnitude << 13).AsSingle() * magic;
        var special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u));
        var bits = Vector256.ConditionalSelect(special, value.AsUInt32() | Vector256.Create(0x7F800000u), value.AsUInt32());
        return (bits | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }
}
