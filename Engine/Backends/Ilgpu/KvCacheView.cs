using Fathom.Engine.Quantization;
using ILGPU;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// One tensor of the device KV cache (K or V) as raw bytes, with how its elements are encoded: f16 (2 bytes) or
/// fp8 e4m3 (1 byte, scale 1.0). Every kernel that writes or reads cached K/V goes through <see cref="Store"/> and
/// <see cref="Pair"/>, so the element format lives here alone. Element indices are those of the cache layout
/// // (layers, blocks, block_size, n_head_kv, head_dim), whatever the element size.
/// </summary>
/// <param name="Bytes">The cache tensor's bytes.</param>
/// <param name="Fp8">Non-zero when elements are fp8 e4m3 bytes; zero for f16.</param>
internal readonly record struct KvCacheView(ArrayView<byte> Bytes, int Fp8)
{
    /// <summary>An f16 cache tensor.</summary>
    public static KvCacheView F16(ArrayView<DeviceHalf> halves) => new(halves.Cast<byte>(), 0);

    /// <summary>An fp8 e4m3 cache tensor (one byte an element).</summary>
    public static KvCacheView E4M3(ArrayView<byte> bytes) => new(bytes, 1);

    /// <summary>Bytes one element takes.</summary>
    public int ElementBytes => Fp8 != 0 ? 1 : 2;

    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="element"/>: f16 by ILGPU's conversion, or fp8 by
    /// <see cref="Fp8E4M3.FromSingleBits"/> (the host's rounding: nearest, ties to even, saturating at ±448).
    /// </summary>
    public void Store(long element, float value)
    {
        if (Fp8 != 0)
        {
            Bytes[element] = Fp8E4M3.FromSingleBits((uint)Interop.FloatAsInt(value));
        }
        else
        {
            Bytes.Cast<DeviceHalf>()[element] = (DeviceHalf)value;
        }
    }

    /// <summary>
    /// Elements <paramref name="element"/> and <paramref name="element"/> + 1 (<paramref name="element"/> even) from
    /// one aligned load: a 32-bit word of two f16, or a 16-bit word of two fp8 bytes.
    /// </summary>
    public void Pair(long element, out float low, out float high)
    {
        if (Fp8 != 0)
        {
            uint pair = Bytes.Cast<ushort>()[element >> 1];
            low = E4M3ToSingle(pair & 0xFF);
            high = E4M3ToSingle(pair >> 8);
        }
        else
        {
            var pair = Bytes.Cast<uint>()[element >> 1];
            low = WeightDecode.HalfToSingle(pair & 0xFFFF);
            high = WeightDecode.HalfToSingle(pair >> 16);
        }
    }

    /// <summary>
    /// The value of one e4m3 byte, equal to <see cref="Fp8E4M3.ToSingle"/> for all 256 codes: the weight decoder's
    /// exact conversion, with the two NaN codes kept NaN (a weight loader rejects them; a cache holds what it was given).
    /// </summary>
    public static float E4M3ToSingle(uint bits) => (bits & 0x7F) == 0x7F ? float.NaN : WeightDecode.Fp8ToSingle(bits);
}
