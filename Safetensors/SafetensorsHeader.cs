using System.Buffers.Binary;
using System.Text.Json;

namespace Fathom.Safetensors;

/// <summary>
/// Parses and validates a safetensors header: the 8-byte little-endian length, the JSON object that follows it and
/// every tensor entry against the data section (dtype, shape × element size = byte range, ranges inside the data
/// section, no overlaps, no holes, no duplicate names), as the format's specification requires.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's limit): a header is names and numbers, not data.</summary>
    public const long MaxHeaderBytes = 100L << 20;

    /// <summary>The key of the optional string-to-string metadata object.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The parsed header.</summary>
    /// <param name="Tensors">Tensor entries in header order.</param>
    /// <param name="Metadata">The <c>__metadata__</c> strings (empty when absent).</param>
    /// <param name="DataOffset">Absolute offset of the data section (8 + header length).</param>
    public sealed record Result(IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataOffset);

    /// <exception cref="SafetensorsFormatException">The header is malformed or inconsistent with the file's length.</exception>
    public static Result Parse(ReadOnlySpan<byte> prefix, long fileLength, string path)
    {
        if (fileLength < 8 || prefix.Length < 8)
        {
            throw new SafetensorsFormatException(path, "header length", $"the file is {fileLength} bytes; a safetensors file starts with an 8-byte header length");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new SafetensorsFormatException(path, "header length", $"{headerLength} bytes, but only {fileLength - 8} bytes follow the length field");
        }

        if (headerLength > MaxHeaderBytes)
        {
            throw new SafetensorsFormatException(path, "header length", $"{headerLength} bytes is over the {MaxHeaderBytes}-byte limit");
        }

        if ((long)headerLength > prefix.Length - 8)
        {
            throw new ArgumentException("the prefix must hold the whole header", nameof(prefix));
        }

        var json = prefix.Slice(8, (int)headerLength);
        if (json.IsEmpty || json[0] != (byte)'{')
        {
            throw new SafetensorsFormatException(path, "header", "the header must be a JSON object (start with '{')");
        }

        var dataOffset = 8 + (long)headerLength;
        var dataLength = fileLength - dataOffset;
        JsonDocument document;
        try
        {
            // Trailing spaces pad the header to an 8-byte boundary; the JSON reader skips them.
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, "header", $"not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            return Read(document.RootElement, dataOffset, dataLength, path);
        }
    }

    private static Result Read(JsonElement root, long dataOffset, long dataLength, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(path, "header", $"the header must be a JSON object, not {root.ValueKind}");
        }

        var tensors = new List<SafetensorsTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var sawMetadata = false;
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name == MetadataKey)
            {
                if (sawMetadata)
                {
                    throw new SafetensorsFormatException(path, MetadataKey, "occurs twice in the header");
                }

                sawMetadata = true;
                ReadMetadata(property.Value, metadata, path);
                continue;
            }

            if (!names.Add(property.Name))
            {
                throw new SafetensorsFormatException(path, $"tensor '{property.Name}'", "the name occurs twice in the header");
            }

            tensors.Add(ReadTensor(property.Name, property.Value, dataLength, path));
        }

        CheckCoverage(tensors, dataLength, path);
        return new Result(tensors, metadata, dataOffset);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(path, MetadataKey, $"must be an object of strings, not {value.ValueKind}");
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafetensorsFormatException(path, $"{MetadataKey}['{entry.Name}']", $"must be a string, not {entry.Value.ValueKind}");
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new SafetensorsFormatException(path, $"{MetadataKey}['{entry.Name}']", "occurs twice");
            }
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement value, long dataLength, string path)
    {
        var field = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(path, field, $"must be an object with dtype, shape and data_offsets, not {value.ValueKind}");
        }

        SafetensorsDType? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        foreach (var member in value.EnumerateObject())
        {
            var memberField = $"{field}.{member.Name}";
            switch (member.Name)
            {
                case "dtype" when dtype is null:
                    var text = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString()! : null;
                    dtype = (text is null ? null : SafetensorsDTypes.Parse(text))
                        ?? throw new SafetensorsFormatException(path, memberField,
                            $"{member.Value.GetRawText()} is not a dtype (known: {string.Join(", ", Enum.GetNames<SafetensorsDType>())})");
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(member.Value, memberField, path, count: null);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(member.Value, memberField, path, count: 2);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw new SafetensorsFormatException(path, memberField, "occurs twice");
                default:
                    throw new SafetensorsFormatException(path, memberField, "is not a field of a tensor entry (dtype, shape, data_offsets)");
            }
        }

        if (dtype is not { } type || shape is null || offsets is null)
        {
            var missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw new SafetensorsFormatException(path, $"{field}.{missing}", "is missing");
        }

        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end)
        {
            throw new SafetensorsFormatException(path, $"{field}.data_offsets", $"[{begin}, {end}] ends before it begins");
        }

        if (end > dataLength)
        {
            throw new SafetensorsFormatException(path, $"{field}.data_offsets", $"[{begin}, {end}] runs past the data section of {dataLength} bytes");
        }

        long expected;
        try
        {
            expected = SafetensorsDTypes.ElementBytes(type);
            foreach (var d in shape)
            {
                expected = checked(expected * d);
            }
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(path, $"{field}.shape", $"[{string.Join(", ", shape)}] of {type} overflows a 64-bit byte count");
        }

        if (expected != end - begin)
        {
            throw new SafetensorsFormatException(path, $"{field}.data_offsets",
                $"[{begin}, {end}] holds {end - begin} bytes, but shape [{string.Join(", ", shape)}] of {type} needs {expected}");
        }

        return new SafetensorsTensorInfo(name, type, shape, begin, end);
    }

    private static long[] ReadIntegers(JsonElement value, string field, string path, int? count)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsFormatException(path, field, $"must be an array of non-negative integers, not {value.ValueKind}");
        }

        var length = value.GetArrayLength();
        if (count is { } n && length != n)
        {
            throw new SafetensorsFormatException(path, field, $"must hold {n} integers, not {length}");
        }

        if (length > 64)
        {
            throw new SafetensorsFormatException(path, field, $"has {length} dimensions; at most 64 are accepted");
        }

        var values = new long[length];
        var i = 0;
        foreach (var element in value.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var v) || v < 0)
            {
                throw new SafetensorsFormatException(path, field, $"element {i} ({element.GetRawText()}) is not a non-negative 64-bit integer");
            }

            values[i++] = v;
        }

        return values;
    }

    // The specification asks the tensors to tile the data section exactly: no overlap, no hole, nothing after the last.
    private static void CheckCoverage(List<SafetensorsTensorInfo> tensors, long dataLength, string path)
    {
        var ordered = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long covered = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var t in ordered)
        {
            if (t.Begin < covered)
            {
                throw new SafetensorsFormatException(path, $"tensor '{t.Name}'.data_offsets",
                    $"[{t.Begin}, {t.End}] overlaps tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            }

            if (t.Begin > covered)
            {
                throw new SafetensorsFormatException(path, $"tensor '{t.Name}'.data_offsets",
                    $"[{t.Begin}, {t.End}] leaves bytes [{covered}, {t.Begin}) of the data section unused (the format allows no holes)");
            }

            covered = t.End;
            previous = t;
        }

        if (covered != dataLength)
        {
            throw new SafetensorsFormatException(path, "data section",
                $"the tensors cover {covered} bytes but the data section is {dataLength} bytes (the format allows no trailing bytes)");
        }
    }
}
