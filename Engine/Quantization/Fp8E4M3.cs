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
    /// <c>compressed-tensors</c> and FBGEMM quantizers clamp before the cast (infinities too); NaN stays NaN.
    /// </summary>
    public static byte FromSingle(float value) => FromSingleBits(BitConverter.SingleToUInt32Bits(value));

    /// <summary>
    /// <see cref="FromSingle"/> on the f32 bit pattern, in integer arithmetic only (no tables, no library calls), so
    /// that the GPU kernels that write fp8 (the KV cache store) compile this same function: one rounding, everywhere.
    /// </summary>
    /// <param name="bits">An f32 bit pattern.</param>
    public static byte FromSingleBits(uint bits)
    {
        var sign = (bits >> 24) & 0x80u;
        var magnitude = bits & 0x7FFFFFFFu;
        if (magnitude > 0x7F800000u)
        {
            return 0x7F; // NaN
        }

        if (magnitude >= 0x43E00000u)
        {
            return (byte)(sign | 0x7Eu); // ≥ 448, infinity included: saturate
        }

        if (magnitude < 0x3C800000u)
        {
            // Below the smallest normal (2^-6) the codes are m·2^-9, m = 0..8 (8 is the smallest normal's code):
            // m = significand · 2^(exponent - 150 + 9), rounded to nearest even by the bits shifted out.
            var exponent = (int)(magnitude >> 23);
            var shift = 141 - exponent; // ≥ 21 here
            if (exponent == 0 || shift > 25)
            {
                return (byte)sign; // under 2^-11: rounds to zero
            }

            var significand = (magnitude & 0x7FFFFFu) | 0x800000u;
            var m = significand >> shift;
            var rest = significand & ((1u << shift) - 1);
            var half = 1u << (shift - 1);
            m += rest > half || (rest == half && (m & 1) != 0) ? 1u : 0u;
            return (byte)(sign | m);
        }

        // Normal: drop 20 of the f32 mantissa's 23 bits, rounding to nearest even; a carry bumps the exponent.
        var rounded = (magnitude + 0x7FFFFu + ((magnitude >> 20) & 1)) & ~0xFFFFFu;
        return (byte)(sign | ((((rounded >> 23) - 120) << 3) & 0x78u) | ((rounded >> 20) & 7));
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
