using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The FP8 element type <c>float8_e4m3fn</c> (safetensors <c>F8_E4M3</c>): sign, 4 exponent bits (bias 7), 3 mantissa
/// bits, no infinities; <c>0x7F</c>/<c>0xFF</c> are NaN, so the largest finite magnitude is 448 (<c>0x7E</c>).
/// </summary>
public static class Fp8E4M3
{
    /// <summary>Largest finite magnitude.</summary>
    public const float MaxFinite = 448f;

    private static readonly float[] Table = Build();

    /// <summary>The value of one e4m3 byte (exact; NaN for <c>0x7F</c>/<c>0xFF</c>). The scalar oracle of every kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(byte bits) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Table), bits);

    /// <summary>Whether <paramref name="bits"/> is one of the two NaN codes.</summary>
    public static bool IsNaN(byte bits) => (bits & 0x7F) == 0x7F;

    /// <summary>
    /// Rounds <paramref name="value"/> to the nearest e4m3 value (ties to even), saturating at ±448 as the
    /// <c>compressed-tensors</c> and FBGEMM quantizers clamp before the cast; NaN stays NaN.
    /// </summary>
    public static byte FromSingle(float value)
    {
        if (float.IsNaN(value))
        {
            return 0x7F;
        }

        var sign = float.IsNegative(value) ? 0x80 : 0;
        var magnitude = Math.Min(MathF.Abs(value), MaxFinite);
        if (magnitude < 0.015625f)
        {
            // Below the smallest normal (2^-6) the codes are m·2^-9, m = 0..8 (8 is the smallest normal's code).
            return (byte)(sign | (int)MathF.Round(magnitude * 512, MidpointRounding.ToEven));
        }

        // Normal: drop 20 of the f32 mantissa's 23 bits, rounding to nearest even; a carry bumps the exponent.
        var bits = BitConverter.SingleToUInt32Bits(magnitude);
        var rounded = (bits + 0x7FFFFu + ((bits >> 20) & 1)) & ~0xFFFFFu;
        var exponent = (int)(rounded >> 23) - 127 + 7;
        return (byte)(sign | (exponent << 3) | (int)((rounded >> 20) & 7));
    }

    private static float[] Build()
    {
        var table = new float[256];
        for (var b = 0; b < 256; b++)
        {
            var exponent = (b >> 3) & 0xF;
            var mantissa = b & 7;
            float magnitude = (b & 0x7F) == 0x7F
                ? float.NaN
                : exponent == 0
                    ? mantissa / 512f // subnormal: m/8 · 2^-6
                    : MathF.ScaleB(1 + (mantissa / 8f), exponent - 7);
            table[b] = (b & 0x80) != 0 ? -magnitude : magnitude;
        }

        return table;
    }
}
