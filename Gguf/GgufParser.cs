using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace Fathom.Gguf;

/// <summary>
/// Reads the GGUF header, metadata and tensor infos from a pinned or mapped byte range. Every read is checked
/// against the bytes that remain, and every allocation is bounded by them, so malformed input can only end in
/// <see cref="GgufFormatException"/>.
/// </summary>
internal sealed unsafe class GgufParser
{
    internal const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    internal const uint DefaultAlignment = 32;
    internal const string AlignmentKey = "general.alignment";
    internal const int MaxDimensions = 4;
    internal const int MaxArrayNesting = 8;

    // Smallest possible encodings, used to reject counts the remaining bytes could never hold.
    private const long MinMetadataEntryBytes = 8 + 4 + 1;
    private const long MinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;

    private readonly byte* _base;
    private readonly long _length;
    private readonly string? _path;
    private readonly GgufLayout? _layout;
    private readonly bool _metadataOnly;
    private long _pos;

    private GgufParser(byte* data, long length, string? path, GgufLayout? layout, bool metadataOnly)
    {
        _base = data;
        _length = length;
        _path = path;
        _layout = layout;
        _metadataOnly = metadataOnly;
    }

    internal sealed record Result(uint Version, uint Alignment, long DataOffset, GgufMetadata Metadata, IReadOnlyList<GgufTensorInfo> Tensors);

    // metadataOnly: stop after the metadata; tensor infos are neither read nor validated.
    public static Result Parse(byte* data, long length, string? path, GgufLayout? layout = null, bool metadataOnly = false)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("GGUF parsing needs a little-endian machine.");
        }

        return new GgufParser(data, length, path, layout, metadataOnly).ParseAll();
    }

    private Result ParseAll()
    {
        var magic = ReadU32("magic");
        if (magic != Magic)
        {
            throw Fail(0, $"not a GGUF file: magic is 0x{magic:X8}, expected 0x{Magic:X8} (\"GGUF\")");
        }

        var version = ReadU32("version");
        if (version == 1)
        {
            throw Fail(4, "GGUF v1 is not supported (re-convert the model with a current llama.cpp)");
        }

        if (version is not (2 or 3))
        {
            throw Fail(4, BinaryPrimitives.ReverseEndianness(version) is 2 or 3
                ? "big-endian GGUF is not supported"
                : $"unsupported GGUF version {version} (supported: 2, 3)");
        }

        var tensorCount = ReadCount("tensor count", MinTensorInfoBytes);
        var kvCount = ReadCount("metadata entry count", MinMetadataEntryBytes);
        _layout?.SectionEnds.Add(_pos);

        var entries = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(kvCount, 1024));
        for (long i = 0; i < kvCount; i++)
        {
            var key = ReadString("metadata key");
            var type = ReadValueType("metadata value type");
            entries.Add(new(key, ReadValue(type, key, 0)));
            _layout?.SectionEnds.Add(_pos);
        }

        var metadata = new GgufMetadata(entries, _path);
        var alignment = ReadAlignment(metadata);
        if (_metadataOnly)
        {
            return new Result(version, alignment, -1, metadata, []);
        }

        var infos = new List<(GgufTensorInfo Info, long ByteSize, long FieldOffset)>((int)Math.Min(tensorCount, 4096));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            var start = _pos;
            var info = ReadTensorInfo(alignment, out var byteSize);
            if (!names.Add(info.Name))
            {
                throw Fail(start, $"duplicate tensor name '{info.Name}'");
            }

            infos.Add((info, byteSize, start));
            _layout?.SectionEnds.Add(_pos);
        }

        var dataOffset = AlignUp(_pos, alignment);
        _layout?.SectionEnds.Add(dataOffset);
        CheckDataRegion(infos, dataOffset);
        return new Result(version, alignment, dataOffset, metadata, infos.ConvertAll(t => t.Info));
    }

    private uint ReadAlignment(GgufMetadata metadata)
    {
        if (!metadata.TryGetValue(AlignmentKey, out var value))
        {
            return DefaultAlignment;
        }

        if (value.Type != GgufValueType.UInt32)
        {
            throw Fail(value.Offset, $"'{AlignmentKey}' must be a UInt32, found {value.Type}");
        }

        var alignment = value.AsUInt32();
        return alignment != 0 && BitOperations.IsPow2(alignment)
            ? alignment
            : throw Fail(value.Offset, $"'{AlignmentKey}' is {alignment}, not a power of two");
    }

    private GgufTensorInfo ReadTensorInfo(uint alignment, out long byteSize)
    {
        var name = ReadString("tensor name");
        var dimsAt = _pos;
        var nDims = ReadU32("tensor dimension count", recordField: true);
        if (nDims is 0 or > MaxDimensions)
        {
            throw Fail(dimsAt, $"tensor '{name}' has {nDims} dimensions (allowed: 1 to {MaxDimensions})");
        }

        var dims = new long[nDims];
        long elements = 1;
        for (var d = 0; d < nDims; d++)
        {
            var at = _pos;
            var size = ReadU64("tensor dimension", recordField: true);
            if (size is 0 or > long.MaxValue)
            {
                throw Fail(at, $"tensor '{name}' dimension {d} is {(long)size}; dimensions must be positive");
            }

            dims[d] = (long)size;
            if (elements > long.MaxValue / dims[d])
            {
                throw Fail(at, $"tensor '{name}' element count overflows 64 bits");
            }

            elements *= dims[d];
        }

        var typeAt = _pos;
        var typeId = ReadU32("tensor type", recordField: true);
        var type = (GgmlType)typeId;
        if (!GgmlTypeTraits.IsKnown(type))
        {
            throw Fail(typeAt, $"tensor '{name}' has unknown ggml type id {typeId}");
        }

        var blockSize = GgmlTypeTraits.BlockSize(type);
        if (dims[0] % blockSize != 0)
        {
            throw Fail(typeAt, $"tensor '{name}' is {type} with rows of {dims[0]} elements, not a multiple of its {blockSize}-element block");
        }

        var rowBytes = dims[0] / blockSize * GgmlTypeTraits.BlockBytes(type);
        var rows = elements / dims[0];
        if (rows > long.MaxValue / rowBytes)
        {
            throw Fail(typeAt, $"tensor '{name}' byte size overflows 64 bits");
        }

        byteSize = rows * rowBytes;
        var offsetAt = _pos;
        var offset = ReadU64("tensor data offset", recordField: true);
        if (offset % alignment != 0)
        {
            throw Fail(offsetAt, $"tensor '{name}' data offset {offset} is not a multiple of the alignment {alignment}");
        }

        return new GgufTensorInfo(name, type, dims, offset);
    }

    private void CheckDataRegion(List<(GgufTensorInfo Info, long ByteSize, long FieldOffset)> infos, long dataOffset)
    {
        if (infos.Count == 0)
        {
            return;
        }

        var dataBytes = _length - dataOffset;
        if (dataBytes < 0)
        {
            throw Fail(_length, $"file ends before its data section (which starts at {dataOffset})");
        }

        foreach (var (info, size, at) in infos)
        {
            if (info.Offset > (ulong)dataBytes || size > dataBytes - (long)info.Offset)
            {
                throw Fail(at, $"tensor '{info.Name}' ({size} bytes at data offset {info.Offset}) lies outside the data section ({dataBytes} bytes)");
            }
        }

        var sorted = infos.OrderBy(t => t.Info.Offset).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            var prev = sorted[i - 1];
            if ((long)prev.Info.Offset + prev.ByteSize > (long)sorted[i].Info.Offset)
            {
                throw Fail(sorted[i].FieldOffset, $"tensor '{sorted[i].Info.Name}' overlaps tensor '{prev.Info.Name}'");
            }
        }

        if (_layout is not null)
        {
            foreach (var t in sorted)
            {
                _layout.SectionEnds.Add(dataOffset + (long)t.Info.Offset + t.ByteSize);
            }
        }
    }

    private GgufValue ReadValue(GgufValueType type, string key, int depth)
    {
        var at = _pos;
        GgufValue value = type switch
        {
            GgufValueType.UInt8 => GgufValue.Integer(type, Read<byte>(key)),
            GgufValueType.Int8 => GgufValue.Integer(type, Read<sbyte>(key)),
            GgufValueType.UInt16 => GgufValue.Integer(type, Read<ushort>(key)),
            GgufValueType.Int16 => GgufValue.Integer(type, Read<short>(key)),
            GgufValueType.UInt32 => GgufValue.Integer(type, Read<uint>(key)),
            GgufValueType.Int32 => GgufValue.Integer(type, Read<int>(key)),
            GgufValueType.UInt64 => GgufValue.Integer(type, Read<ulong>(key)),
            GgufValueType.Int64 => GgufValue.Integer(type, Read<long>(key)),
            GgufValueType.Float32 => GgufValue.Floating(type, Read<float>(key)),
            GgufValueType.Float64 => GgufValue.Floating(type, Read<double>(key)),
            GgufValueType.Bool => GgufValue.FromBool(Read<byte>(key) != 0),
            GgufValueType.String => GgufValue.FromString(ReadString(key)),
            _ => ReadArray(key, depth),
        };
        value.Offset = at;
        return value;
    }

    private GgufValue ReadArray(string key, int depth)
    {
        var at = _pos;
        if (depth >= MaxArrayNesting)
        {
            throw Fail(at, $"metadata '{key}': arrays nested deeper than {MaxArrayNesting} levels");
        }

        var elementType = ReadValueType($"metadata '{key}' array element type");
        var count = ReadCount($"metadata '{key}' array count", MinEncodedSize(elementType));
        var n = (int)count;
        Array storage = elementType switch
        {
            GgufValueType.UInt8 => ReadBulk<byte>(n, key),
            GgufValueType.Int8 => ReadBulk<sbyte>(n, key),
            GgufValueType.UInt16 => ReadBulk<ushort>(n, key),
            GgufValueType.Int16 => ReadBulk<short>(n, key),
            GgufValueType.UInt32 => ReadBulk<uint>(n, key),
            GgufValueType.Int32 => ReadBulk<int>(n, key),
            GgufValueType.UInt64 => ReadBulk<ulong>(n, key),
            GgufValueType.Int64 => ReadBulk<long>(n, key),
            GgufValueType.Float32 => ReadBulk<float>(n, key),
            GgufValueType.Float64 => ReadBulk<double>(n, key),
            GgufValueType.Bool => Array.ConvertAll(ReadBulk<byte>(n, key), b => b != 0),
            GgufValueType.String => ReadStrings(n, key),
            _ => ReadNested(n, key, depth),
        };
        return GgufValue.CreateArray(elementType, storage);
    }

    private string[] ReadStrings(int n, string key)
    {
        var result = new string[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = ReadString(key);
        }

        return result;
    }

    private GgufValue[] ReadNested(int n, string key, int depth)
    {
        var result = new GgufValue[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = ReadValue(GgufValueType.Array, key, depth + 1);
        }

        return result;
    }

    private static long MinEncodedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 4 + 8, // nested array: element type + count
    };

    private T[] ReadBulk<T>(int n, string what)
        where T : unmanaged
    {
        var bytes = (long)n * sizeof(T);
        Need(bytes, what);
        var result = new T[n];
        new ReadOnlySpan<byte>(_base + _pos, (int)bytes).CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        _pos += bytes;
        return result;
    }

    private GgufValueType ReadValueType(string what)
    {
        var at = _pos;
        var id = ReadU32(what, recordField: true);
        return id <= (uint)GgufValueType.Float64 ? (GgufValueType)id : throw Fail(at, $"unknown {what} {id}");
    }

    private string ReadString(string what)
    {
        var at = _pos;
        var length = ReadU64($"{what} length", recordField: true);
        if (length > (ulong)(_length - _pos))
        {
            throw Fail(at, $"{what} length {length} runs past the end of the file ({_length - _pos} bytes left)");
        }

        if (length > int.MaxValue)
        {
            throw Fail(at, $"{what} length {length} is too long");
        }

        var s = Encoding.UTF8.GetString(_base + _pos, (int)length);
        _pos += (long)length;
        return s;
    }

    // A count is trusted only as far as the remaining bytes could hold that many of the smallest element.
    private long ReadCount(string what, long minElementBytes)
    {
        var at = _pos;
        var count = ReadU64(what, recordField: true);
        var remaining = _length - _pos;
        if (count > (ulong)(remaining / minElementBytes) || count > (ulong)Array.MaxLength)
        {
            throw Fail(at, $"{what} {count} is more than the remaining {remaining} bytes can hold");
        }

        return (long)count;
    }

    private uint ReadU32(string what, bool recordField = false)
    {
        if (recordField)
        {
            _layout?.CountFields.Add((_pos, 4));
        }

        return Read<uint>(what);
    }

    private ulong ReadU64(string what, bool recordField = false)
    {
        if (recordField)
        {
            _layout?.CountFields.Add((_pos, 8));
        }

        return Read<ulong>(what);
    }

    private T Read<T>(string what)
        where T : unmanaged
    {
        Need(sizeof(T), what);
        var value = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<T>(_base + _pos);
        _pos += sizeof(T);
        return value;
    }

    private void Need(long bytes, string what)
    {
        if (bytes > _length - _pos)
        {
            throw Fail(_pos, $"truncated: {what} needs {bytes} bytes, {_length - _pos} left");
        }
    }

    private static long AlignUp(long position, uint alignment) => (position + alignment - 1) / alignment * alignment;

    private GgufFormatException Fail(long offset, string reason) => new(_path, offset, reason);
}
