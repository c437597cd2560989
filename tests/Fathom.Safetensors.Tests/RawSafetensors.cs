using System.Buffers.Binary;
using System.Text;

namespace Fathom.Safetensors.Tests;

/// <summary>Builds safetensors bytes from a hand-written header, for malformed cases the writer refuses to make.</summary>
internal static class RawSafetensors
{
    public static byte[] Build(string headerJson, int dataBytes, ulong? headerLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (var i = 0; i < dataBytes; i++)
        {
            bytes[8 + header.Length + i] = (byte)i;
        }

        return bytes;
    }
}
