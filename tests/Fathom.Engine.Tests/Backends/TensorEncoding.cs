using System.Runtime.InteropServices;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Backends;

/// <summary>f32 values to the bytes of a GGUF tensor type (round to nearest).</summary>
internal static class TensorEncoding
{
    /// <summary>Encodes into <paramref name="destination"/>, which is exactly one encoded row long (no allocation for quantized types).</summary>
    public static void EncodeInto(GgmlType type, ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)
        {
            Encode(type, values).CopyTo(destination);
        }
        else
        {
            TensorFormats.QuantizeRow(type, values, destination, values.Length);
        }
    }

    public static byte[] Encode(GgmlType type, ReadOnlySpan<float> values)
    {
        switch (type)
        {
            case GgmlType.F32:
                return MemoryMarshal.AsBytes(values).ToArray();
            case GgmlType.F16:
                var halves = new Half[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    halves[i] = (Half)values[i];
                }

                return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            case GgmlType.BF16:
                var bf = new ushort[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    var bits = BitConverter.SingleToUInt32Bits(values[i]);
                    bf[i] = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16); // round to nearest even
                }

                return MemoryMarshal.AsBytes(bf.AsSpan()).ToArray();
            default:
                // Quantized types: llama.cpp's reference quantizers, as in files it writes.
                var bytes = new byte[TensorFormats.RowBytes(type, values.Length)];
                TensorFormats.QuantizeRow(type, values, bytes, values.Length);
                return bytes;
        }
    }
}
