using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Fathom.Gguf;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom inspect FILE|DIR [--json]</c>: a GGUF file's version, alignment, metadata and tensors, or a Hugging Face model directory's config, quantization and tensors.</summary>
internal static class InspectCommand
{
    private const int ArrayItemsShown = 8;
    private const int ExitInvalidFile = 2;

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The GGUF file or Hugging Face model directory to describe." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var command = new Command("inspect", "Show a GGUF file's version, metadata (long arrays summarised) and tensors, or a model directory's config, quantization, dtypes and tensors.") { file, json };
        command.SetAction(parseResult => Run(
            parseResult.GetRequiredValue(file),
            parseResult.GetValue(json),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(string path, bool json, TextWriter output, TextWriter error)
    {
        try
        {
            path = ModelStoreSupport.Resolve(path, error);
            if (Directory.Exists(path))
            {
                output.Write(InspectDirectory.Describe(path, json));
                return 0;
            }

            using var file = GgufFile.Open(path);
            output.Write(json ? ToJson(path, file.Metadata, file, null) : ToText(path, file.Metadata, file));
            return 0;
        }
        catch (GgufFormatException e)
        {
            // Show the metadata when only the tensors are at fault (e.g. rows that are not whole blocks).
            var metadata = TryReadMetadata(path);
            if (metadata is not null)
            {
                output.Write(json ? ToJson(path, metadata, null, e.Message) : ToText(path, metadata, null));
            }

            return Fail(error, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or Fathom.Models.ModelPullException
            or Fathom.Safetensors.SafetensorsFormatException or JsonException)
        {
            return Fail(error, e.Message);
        }
    }

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine($"fathom inspect: {message.ReplaceLineEndings(" ")}");
        return ExitInvalidFile;
    }

    private static GgufMetadata? TryReadMetadata(string path)
    {
        try
        {
            return GgufFile.ReadMetadata(path);
        }
        catch (Exception e) when (e is GgufFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string ToText(string path, GgufMetadata metadata, GgufFile? file)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"file: {path}");
        if (file is not null)
        {
            text.AppendLine(inv, $"format: GGUF v{file.Version}, alignment {file.Alignment}, data offset {file.DataOffset}, {file.FileLength:N0} bytes");
        }

        text.AppendLine(inv, $"metadata: {metadata.Count} keys");
        var keyWidth = metadata.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        foreach (var (key, value) in metadata)
        {
            text.AppendLine(inv, $"  {key.PadRight(keyWidth)}  {TypeName(value),-14}  {value.ToDisplayString(ArrayItemsShown)}");
        }

        if (file is null)
        {
            text.AppendLine("tensors: not listed (the file is invalid)");
            return text.ToString();
        }

        text.AppendLine(inv, $"tensors: {file.Tensors.Count}");
        if (file.Tensors.Count > 0)
        {
            var nameWidth = Math.Max(4, file.Tensors.Max(t => t.Name.Length));
            var shapeWidth = Math.Max(5, file.Tensors.Max(t => t.ShapeText.Length));
            text.AppendLine(inv, $"  {"name".PadRight(nameWidth)}  {"type",-7}  {"shape".PadRight(shapeWidth)}  {"bytes",14}");
            foreach (var t in file.Tensors)
            {
                text.AppendLine(inv, $"  {t.Name.PadRight(nameWidth)}  {t.Type,-7}  {t.ShapeText.PadRight(shapeWidth)}  {t.ByteSize,14:N0}");
            }
        }

        var byType = string.Join(", ", file.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        text.AppendLine(inv,
            $"total: {file.Tensors.Count} tensors, {file.Tensors.Sum(t => t.ElementCount):N0} elements, {file.Tensors.Sum(t => t.ByteSize):N0} bytes{(byType.Length > 0 ? $" ({byType})" : "")}");
        return text.ToString();
    }

    private static string TypeName(GgufValue value) => value.Type == GgufValueType.Array
        ? string.Create(CultureInfo.InvariantCulture, $"{value.ElementType}[{value.Count}]")
        : value.Type.ToString();

    private static string ToJson(string path, GgufMetadata metadata, GgufFile? file, string? problem)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", path);
            if (problem is not null)
            {
                w.WriteString("error", problem);
            }

            if (file is not null)
            {
                w.WriteNumber("version", file.Version);
                w.WriteNumber("alignment", file.Alignment);
                w.WriteNumber("dataOffset", file.DataOffset);
                w.WriteNumber("fileSize", file.FileLength);
            }

            w.WriteStartObject("metadata");
            foreach (var (key, value) in metadata)
            {
                w.WritePropertyName(key);
                WriteJsonValue(w, value, topLevel: true);
            }

            w.WriteEndObject();
            if (file is not null)
            {
                w.WriteStartArray("tensors");
                foreach (var t in file.Tensors)
                {
                    w.WriteStartObject();
                    w.WriteString("name", t.Name);
                    w.WriteString("type", t.Type.ToString());
                    w.WriteStartArray("shape");
                    foreach (var d in t.Dimensions)
                    {
                        w.WriteNumberValue(d);
                    }

                    w.WriteEndArray();
                    w.WriteNumber("offset", t.Offset);
                    w.WriteNumber("bytes", t.ByteSize);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartObject("totals");
                w.WriteNumber("tensors", file.Tensors.Count);
                w.WriteNumber("elements", file.Tensors.Sum(t => t.ElementCount));
                w.WriteNumber("bytes", file.Tensors.Sum(t => t.ByteSize));
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }

    // Arrays longer than a few items are summarised: {"type": "String", "count": n, "first": [...]}.
    private static void WriteJsonValue(Utf8JsonWriter w, GgufValue value, bool topLevel)
    {
        switch (value.Type)
        {
            case GgufValueType.String:
                w.WriteStringValue(value.AsString());
                break;
            case GgufValueType.Bool:
                w.WriteBooleanValue(value.AsBool());
                break;
            case GgufValueType.Float32 or GgufValueType.Float64:
                var d = value.AsFloat64();
                if (double.IsFinite(d))
                {
                    w.WriteNumberValue(value.Type == GgufValueType.Float32 ? (float)d : d);
                }
                else
                {
                    w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                }

                break;
            case GgufValueType.Array:
                var items = value.AsArray();
                if (items.Count <= ArrayItemsShown || !topLevel)
                {
                    w.WriteStartArray();
                    foreach (var item in items.Take(ArrayItemsShown))
                    {
                        WriteJsonValue(w, item, topLevel: false);
                    }

                    w.WriteEndArray();
                    break;
                }

                w.WriteStartObject();
                w.WriteString("type", value.ElementType.ToString());
                w.WriteNumber("count", items.Count);
                w.WriteStartArray("first");
                foreach (var item in items.Take(ArrayItemsShown))
                {
                    WriteJsonValue(w, item, topLevel: false);
                }

                w.WriteEndArray();
                w.WriteEndObject();
                break;
            case GgufValueType.UInt64:
                w.WriteNumberValue(value.AsUInt64());
                break;
            default:
                w.WriteNumberValue(value.AsInt64());
                break;
        }
    }
}
