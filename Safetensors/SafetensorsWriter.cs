using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;

namespace Fathom.Safetensors;

/// <summary>A tensor to write: name, dtype, shape (outermost first) and a producer of its little-endian bytes.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Sizes, outermost first.</param>
/// <param name="Data">Produces the bytes when the writer reaches the tensor, so a large checkpoint need not sit in memory whole.</param>
public sealed record SafetensorsTensor(string Name, SafetensorsDType DType, long[] Shape, Func<ReadOnlyMemory<byte>> Data)
{
    /// <summary>A tensor whose bytes are already in memory.</summary>
    public SafetensorsTensor(string name, SafetensorsDType dtype, long[] shape, ReadOnlyMemory<byte> data)
        : this(name, dtype, shape, () => data)
    {
    }

    /// <summary>Bytes the shape and dtype need.</summary>
    public long ByteSize => Shape.Aggregate((long)SafetensorsDTypes.ElementBytes(DType), (n, d) => checked(n * d));
}

/// <summary>
/// Writes safetensors files as the format specifies (8-byte little-endian header length, JSON header padded with
/// spaces to 8 bytes, tensors back to back in the given order), single or sharded with a
/// <c>model.safetensors.index.json</c>: test fixtures and quantized output.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a tensor's bytes do not match its shape.</exception>
    public static void Write(string path, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var header = Header(tensors, metadata);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var tensor in tensors)
        {
            var data = tensor.Data();
            if (data.Length != tensor.ByteSize)
            {
                throw new ArgumentException($"tensor '{tensor.Name}' has {data.Length} bytes; shape [{string.Join(", ", tensor.Shape)}] of {tensor.DType} needs {tensor.ByteSize}", nameof(tensors));
            }

            stream.Write(data.Span);
        }
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="directory"/> as shards of at most
    /// <paramref name="maxShardBytes"/> tensor bytes each (a larger tensor gets a shard of its own), named
    /// <c>model-0000i-of-0000n.safetensors</c>, and the index that maps every tensor to its shard.
    /// </summary>
    /// <returns>The shard file names, in order.</returns>
    public static IReadOnlyList<string> WriteSharded(string directory, IReadOnlyList<SafetensorsTensor> tensors, long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        var shards = new List<List<SafetensorsTensor>> { new() };
        long size = 0;
        foreach (var tensor in tensors)
        {
            if (shards[^1].Count > 0 && size + tensor.ByteSize > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }

            shards[^1].Add(tensor);
            size += tensor.ByteSize;
        }

        System.IO.Directory.CreateDirectory(directory);
        var names = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors");
            Write(Path.Combine(directory, name), shards[i], metadata);
            names.Add(name);
            foreach (var tensor in shards[i])
            {
                weightMap[tensor.Name] = name;
            }
        }

        using var index = new FileStream(Path.Combine(directory, SafetensorsCheckpoint.IndexFileName), FileMode.Create, FileAccess.Write);
        using var json = new Utf8JsonWriter(index, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteNumber("total_size", tensors.Sum(t => t.ByteSize));
        json.WriteEndObject();
        json.WriteStartObject("weight_map");
        foreach (var (tensor, shard) in weightMap)
        {
            json.WriteString(tensor, shard);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        return names;
    }

    private static byte[] Header(IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var tensor in tensors)
            {
                if (!names.Add(tensor.Name) || tensor.Name == SafetensorsHeader.MetadataKey)
                {
                    throw new ArgumentException($"tensor name '{tensor.Name}' is used twice or reserved", nameof(tensors));
                }

                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", SafetensorsDTypes.Name(tensor.DType));
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.ByteSize;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // Padding keeps the data section 8-byte aligned, as the reference writer does.
        var length = buffer.Length;
        var padded = (length + 7) & ~7L;
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        header.AsSpan((int)length).Fill((byte)' ');
        return header;
    }
}
