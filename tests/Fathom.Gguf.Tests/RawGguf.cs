using System.Text;

namespace Fathom.Gguf.Tests;

/// <summary>Writes GGUF bytes field by field, including fields no valid writer would produce.</summary>
internal sealed class RawGguf
{
    private readonly List<byte> _bytes = [];

    public long Position => _bytes.Count;

    public RawGguf Header(uint version, ulong tensorCount, ulong kvCount) =>
        U32(0x46554747).U32(version).U64(tensorCount).U64(kvCount);

    public RawGguf U32(uint v)
    {
        _bytes.AddRange(BitConverter.GetBytes(v));
        return this;
    }

    public RawGguf U64(ulong v)
    {
        _bytes.AddRange(BitConverter.GetBytes(v));
        return this;
    }

    public RawGguf Bytes(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public RawGguf Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        return U64((ulong)bytes.Length).Bytes(bytes);
    }

    public RawGguf KvU32(string key, uint value) => Str(key).U32(4).U32(value);

    public RawGguf KvString(string key, string value) => Str(key).U32(8).Str(value);

    public RawGguf TensorInfo(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims)
        {
            U64(d);
        }

        return U32(type).U64(offset);
    }

    public RawGguf PadTo(int alignment)
    {
        while (_bytes.Count % alignment != 0)
        {
            _bytes.Add(0);
        }

        return this;
    }

    public RawGguf Zeros(int count) => Bytes(new byte[count]);

    public byte[] ToArray() => [.. _bytes];
}
