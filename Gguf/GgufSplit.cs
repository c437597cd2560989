using System.Globalization;
using System.Text.RegularExpressions;

namespace Fathom.Gguf;

/// <summary>
/// llama.cpp's multi-part GGUF format (<c>gguf-split</c>): parts named <c>PREFIX-00001-of-00003.gguf</c>, each a
/// complete GGUF file with its own header, metadata, tensor infos and data section; part 1 holds the model's
/// metadata; every part carries <c>split.no</c> (UInt16, 0-based), <c>split.count</c> (UInt16) and
/// <c>split.tensors.count</c> (Int32, the tensors of all parts together).
/// </summary>
public static partial class GgufSplit
{
    /// <summary>Metadata key of the 0-based index of a part.</summary>
    public const string NumberKey = "split.no";

    /// <summary>Metadata key of the number of parts.</summary>
    public const string CountKey = "split.count";

    /// <summary>Metadata key of the number of tensors across all parts.</summary>
    public const string TensorsCountKey = "split.tensors.count";

    /// <summary>The file name llama.cpp gives part <paramref name="index"/> (0-based) of <paramref name="count"/>: <c>PREFIX-%05d-of-%05d.gguf</c>.</summary>
    public static string PartPath(string prefix, int index, int count)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return string.Create(CultureInfo.InvariantCulture, $"{prefix}-{index + 1:D5}-of-{count:D5}.gguf");
    }

    /// <summary>
    /// The model's name from a GGUF path: the file name without <c>.gguf</c>, and without <c>-00001-of-NNNNN</c> for the
    /// first part of a split model (so a split model is served under the same name as the whole file).
    /// </summary>
    public static string ModelName(string path)
    {
        var match = PartNameRegex().Match(path);
        return match.Success && int.Parse(match.Groups["index"].ValueSpan, CultureInfo.InvariantCulture) == 1
            ? Path.GetFileName(match.Groups["prefix"].Value)
            : Path.GetFileNameWithoutExtension(path);
    }

    /// <summary>What the split keys of one part say; null fields when the file is not split.</summary>
    internal readonly record struct Keys(int Number, int Count, int TensorsCount);

    /// <summary>
    /// Reads and type-checks the split keys of <paramref name="metadata"/>; null when the file is a single file
    /// (no <c>split.count</c>, or a count of 0 or 1, as llama.cpp treats it).
    /// </summary>
    /// <exception cref="GgufFormatException">A split key has the wrong type or an impossible value.</exception>
    internal static Keys? Read(GgufMetadata metadata, string? filePath)
    {
        var count = ReadUInt16(metadata, CountKey, filePath);
        if (count is null or <= 1)
        {
            var no = ReadUInt16(metadata, NumberKey, filePath);
            if (no is > 0)
            {
                throw new GgufFormatException(filePath, metadata[NumberKey].Offset, $"'{NumberKey}' is {no} but '{CountKey}' says the model is not split");
            }

            return null;
        }

        var number = ReadUInt16(metadata, NumberKey, filePath)
            ?? throw new GgufFormatException(filePath, metadata[CountKey].Offset, $"'{CountKey}' is {count} but '{NumberKey}' is missing");
        if (number >= count)
        {
            throw new GgufFormatException(filePath, metadata[NumberKey].Offset, $"'{NumberKey}' is {number}, outside the {count} parts of '{CountKey}'");
        }

        if (!metadata.TryGetValue(TensorsCountKey, out var total))
        {
            throw new GgufFormatException(filePath, metadata[CountKey].Offset, $"'{CountKey}' is {count} but '{TensorsCountKey}' is missing");
        }

        if (total.Type != GgufValueType.Int32)
        {
            throw new GgufFormatException(filePath, total.Offset, $"'{TensorsCountKey}' must be an Int32, found {total.Type}");
        }

        var tensors = total.AsInt32();
        if (tensors < 0)
        {
            throw new GgufFormatException(filePath, total.Offset, $"'{TensorsCountKey}' is negative ({tensors})");
        }

        return new Keys(number, count.Value, tensors);
    }

    /// <summary>
    /// Opens the other parts of the split model whose first part is <paramref name="first"/> and checks that they
    /// belong together; returns them in order (index 1 first). The caller disposes them.
    /// </summary>
    /// <exception cref="GgufFormatException">A part is missing, misnamed or disagrees with the first.</exception>
    internal static List<GgufFile> OpenSiblings(GgufFile first, Keys keys)
    {
        var path = first.FilePath;
        if (keys.Number != 0)
        {
            throw new GgufFormatException(path, first.Metadata[NumberKey].Offset,
                $"this is part {keys.Number + 1} of {keys.Count} of a split model ('{NumberKey}' = {keys.Number}); open the first part instead");
        }

        var prefix = Prefix(path, keys.Count)
            ?? throw new GgufFormatException(path, first.Metadata[CountKey].Offset,
                $"'{CountKey}' is {keys.Count} but the file name does not end in '-00001-of-{keys.Count:D5}.gguf', so its other parts cannot be found");

        var parts = new List<GgufFile>(keys.Count - 1);
        try
        {
            var total = first.Tensors.Count;
            for (var index = 1; index < keys.Count; index++)
            {
                var partPath = PartPath(prefix, index, keys.Count);
                if (!File.Exists(partPath))
                {
                    throw new GgufFormatException(partPath, -1,
                        $"part {index + 1} of the split model '{path}' is missing ('{CountKey}' = {keys.Count})");
                }

                var part = GgufFile.OpenPart(partPath);
                parts.Add(part);
                var partKeys = Read(part.Metadata, partPath)
                    ?? throw new GgufFormatException(partPath, -1, $"'{CountKey}' is missing or not above 1 in part {index + 1} of '{path}'");
                Expect(part, NumberKey, partKeys.Number, index);
                Expect(part, CountKey, partKeys.Count, keys.Count);
                Expect(part, TensorsCountKey, partKeys.TensorsCount, keys.TensorsCount);
                total += part.Tensors.Count;
            }

            if (total != keys.TensorsCount)
            {
                throw new GgufFormatException(path, first.Metadata[TensorsCountKey].Offset,
                    $"'{TensorsCountKey}' is {keys.TensorsCount} but the {keys.Count} parts hold {total} tensors");
            }

            return parts;
        }
        catch
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }

            throw;
        }
    }

    /// <summary>The path without <c>-00001-of-NNNNN.gguf</c>, or null when the name does not end that way.</summary>
    private static string? Prefix(string firstPartPath, int count)
    {
        var match = PartNameRegex().Match(firstPartPath);
        if (!match.Success
            || int.Parse(match.Groups["index"].ValueSpan, CultureInfo.InvariantCulture) != 1
            || int.Parse(match.Groups["count"].ValueSpan, CultureInfo.InvariantCulture) != count)
        {
            return null;
        }

        return match.Groups["prefix"].Value;
    }

    private static void Expect(GgufFile part, string key, int actual, int expected)
    {
        if (actual != expected)
        {
            throw new GgufFormatException(part.FilePath, part.Metadata[key].Offset, $"'{key}' is {actual}, expected {expected}");
        }
    }

    private static int? ReadUInt16(GgufMetadata metadata, string key, string? filePath)
    {
        if (!metadata.TryGetValue(key, out var value))
        {
            return null;
        }

        // llama.cpp reads these keys with strict types, so a file it would reject is not guessed at here either.
        return value.Type == GgufValueType.UInt16
            ? (int)value.AsUInt32()
            : throw new GgufFormatException(filePath, value.Offset, $"'{key}' must be a UInt16, found {value.Type}");
    }

    [GeneratedRegex(@"^(?<prefix>.+)-(?<index>[0-9]{5})-of-(?<count>[0-9]{5})\.gguf$", RegexOptions.CultureInvariant)]
    private static partial Regex PartNameRegex();
}
