using System.Globalization;
using System.Text;
using System.Text.Json;
using Fathom.Engine.Model;
using Fathom.Safetensors;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom inspect DIR</c>: a Hugging Face model directory's config.json (as Fathom reads it), quantization,
/// safetensors files and tensors, and whether Fathom runs it.
/// </summary>
internal static class InspectDirectory
{
    /// <exception cref="SafetensorsFormatException">config.json or a safetensors file is malformed.</exception>
    public static string Describe(string directory, bool json)
    {
        var config = HuggingFaceConfig.Read(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var quantization = QuantMethod(config);
        var runs = Runnable(directory);
        return json ? ToJson(directory, config, checkpoint, quantization, runs) : ToText(directory, config, checkpoint, quantization, runs);
    }

    private static string QuantMethod(HuggingFaceConfig config)
    {
        if (config.QuantizationConfigJson is not { } text)
        {
            return "none";
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.TryGetProperty("quant_method", out var method) && method.ValueKind == JsonValueKind.String
            ? method.GetString()!
            : "unknown (quantization_config has no quant_method)";
    }

    // The engine's own loader decides: the same checks a load makes, without mapping the weights into a model.
    private static string Runnable(string directory)
    {
        try
        {
            var hp = HuggingFaceHyperParameters.CheckDirectory(directory);
            return string.Create(CultureInfo.InvariantCulture, $"yes ({hp.Architecture}, rotate-half RoPE; --quantize q8_0|q4_k shrinks float weights on load)");
        }
        catch (Exception e) when (e is ModelLoadException or SafetensorsFormatException)
        {
            return "no: " + e.Message;
        }
    }

    private static string ToText(string directory, HuggingFaceConfig c, SafetensorsCheckpoint checkpoint, string quantization, string runs)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"directory: {directory}");
        text.AppendLine(inv, $"format: Hugging Face model directory, {checkpoint.FilePaths.Count} safetensors file(s){(checkpoint.IndexPath is null ? "" : " listed by " + SafetensorsCheckpoint.IndexFileName)}, {checkpoint.FileBytes:N0} bytes");
        text.AppendLine(inv, $"config: {c.Architecture} ({c.ModelType}), torch_dtype {c.TorchDtype ?? "unset"}");
        text.AppendLine(inv, $"  hidden_size {c.HiddenSize}, num_hidden_layers {c.LayerCount}, num_attention_heads {c.HeadCount}, num_key_value_heads {c.KvHeadCount}, head_dim {c.HeadDimension}");
        text.AppendLine(inv, $"  intermediate_size {c.IntermediateSize}, vocab_size {c.VocabularySize}, max_position_embeddings {c.MaxPositionEmbeddings}, rms_norm_eps {c.RmsNormEpsilon:R}");
        text.AppendLine(inv, $"  rope_theta {c.RopeTheta:R}, rope_scaling {(c.RopeScaling is { } s ? $"{s.Type} factor {s.Factor:R} low {s.LowFrequencyFactor:R} high {s.HighFrequencyFactor:R} original {s.OriginalMaxPositionEmbeddings}" : "none")}");
        text.AppendLine(inv, $"  tie_word_embeddings {c.TieWordEmbeddings}, qkv biases {c.HasQkvBias}, bos {c.BosTokenId?.ToString(inv) ?? "unset"}, eos [{string.Join(", ", c.EosTokenIds)}]");
        text.AppendLine(inv, $"quantization: {quantization}");
        text.AppendLine(inv, $"fathom runs it: {runs}");
        text.AppendLine(inv, $"files:");
        foreach (var file in checkpoint.FilePaths)
        {
            text.AppendLine(inv, $"  {Path.GetFileName(file)}  {new FileInfo(file).Length,16:N0} bytes");
        }

        text.AppendLine(inv, $"tensors: {checkpoint.Tensors.Count}");
        if (checkpoint.Tensors.Count > 0)
        {
            var nameWidth = Math.Max(4, checkpoint.Tensors.Max(t => t.Name.Length));
            var shapeWidth = Math.Max(5, checkpoint.Tensors.Max(t => t.ShapeText.Length));
            text.AppendLine(inv, $"  {"name".PadRight(nameWidth)}  {"dtype",-8}  {"shape".PadRight(shapeWidth)}  {"bytes",14}");
            foreach (var t in checkpoint.Tensors)
            {
                text.AppendLine(inv, $"  {t.Name.PadRight(nameWidth)}  {t.DType,-8}  {t.ShapeText.PadRight(shapeWidth)}  {t.ByteSize,14:N0}");
            }
        }

        var byType = string.Join(", ", checkpoint.Tensors.GroupBy(t => t.DType).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()} tensors, {g.Sum(t => t.ByteSize):N0} bytes"));
        text.AppendLine(inv, $"total: {checkpoint.Tensors.Count} tensors, {checkpoint.Tensors.Sum(t => t.ElementCount):N0} elements, {checkpoint.TensorBytes:N0} bytes ({byType})");
        return text.ToString();
    }

    private static string ToJson(string directory, HuggingFaceConfig c, SafetensorsCheckpoint checkpoint, string quantization, string runs)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("directory", directory);
            w.WriteString("format", "huggingface");
            w.WriteStartObject("config");
            w.WriteString("architecture", c.Architecture);
            w.WriteString("model_type", c.ModelType);
            w.WriteNumber("hidden_size", c.HiddenSize);
            w.WriteNumber("num_hidden_layers", c.LayerCount);
            w.WriteNumber("num_attention_heads", c.HeadCount);
            w.WriteNumber("num_key_value_heads", c.KvHeadCount);
            w.WriteNumber("head_dim", c.HeadDimension);
            w.WriteNumber("intermediate_size", c.IntermediateSize);
            w.WriteNumber("vocab_size", c.VocabularySize);
            w.WriteNumber("max_position_embeddings", c.MaxPositionEmbeddings);
            w.WriteNumber("rope_theta", c.RopeTheta);
            w.WriteString("rope_scaling", c.RopeScaling?.Type);
            w.WriteBoolean("tie_word_embeddings", c.TieWordEmbeddings);
            w.WriteBoolean("qkv_bias", c.HasQkvBias);
            w.WriteString("torch_dtype", c.TorchDtype);
            w.WriteEndObject();
            w.WriteString("quantization", quantization);
            w.WriteString("runnable", runs);
            w.WriteStartArray("files");
            foreach (var file in checkpoint.FilePaths)
            {
                w.WriteStartObject();
                w.WriteString("name", Path.GetFileName(file));
                w.WriteNumber("bytes", new FileInfo(file).Length);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("tensors");
            foreach (var t in checkpoint.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("dtype", t.DType.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.Shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteString("file", Path.GetFileName(checkpoint.FileOf(t)));
                w.WriteNumber("bytes", t.ByteSize);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("totals");
            w.WriteNumber("tensors", checkpoint.Tensors.Count);
            w.WriteNumber("elements", checkpoint.Tensors.Sum(t => t.ElementCount));
            w.WriteNumber("bytes", checkpoint.TensorBytes);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }
}
