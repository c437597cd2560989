using System.Text.Json;

namespace Fathom.Planner.Models;

/// <summary>Reads a Hugging Face <c>config.json</c> of a Llama-family model into a <see cref="ModelShape"/>.</summary>
public static class HfConfigReader
{
    private static readonly HashSet<string> SupportedTypes = new(StringComparer.OrdinalIgnoreCase) { "llama", "mistral", "qwen2" };

    /// <summary>Reads the file at <paramref name="path"/>; the model is named after its folder.</summary>
    /// <exception cref="PlannerInputException">The file is missing, not JSON, or not a supported architecture.</exception>
    public static ModelShape Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new PlannerInputException($"cannot read '{path}': {e.Message}", e);
        }

        var folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)));
        return Parse(text, string.IsNullOrEmpty(folder) ? "config" : folder);
    }

    /// <summary>Parses config.json text.</summary>
    /// <exception cref="PlannerInputException">Not JSON, or not a supported architecture.</exception>
    public static ModelShape Parse(string json, string name)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new PlannerInputException($"config '{name}' is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            var type = root.TryGetProperty("model_type", out var t) ? t.GetString() ?? "" : "";
            if (!SupportedTypes.Contains(type))
            {
                throw new PlannerInputException($"config '{name}' has model_type '{type}'; the planner knows llama, mistral and qwen2");
            }

            var hidden = Int(root, "hidden_size", name);
            var heads = Int(root, "num_attention_heads", name);
            var kvHeads = root.TryGetProperty("num_key_value_heads", out var kv) && kv.ValueKind == JsonValueKind.Number ? kv.GetInt32() : heads;
            var headDim = root.TryGetProperty("head_dim", out var hd) && hd.ValueKind == JsonValueKind.Number ? hd.GetInt32() : hidden / heads;
            var tied = root.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind == JsonValueKind.True;
            // Qwen2 always has q/k/v biases; Llama declares them with attention_bias.
            var bias = string.Equals(type, "qwen2", StringComparison.OrdinalIgnoreCase)
                || (root.TryGetProperty("attention_bias", out var ab) && ab.ValueKind == JsonValueKind.True);
            var maxContext = root.TryGetProperty("max_position_embeddings", out var mp) && mp.ValueKind == JsonValueKind.Number ? mp.GetInt32() : 4096;
            return new ModelShape(name, Int(root, "num_hidden_layers", name), hidden, heads, kvHeads, headDim,
                Int(root, "intermediate_size", name), Int(root, "vocab_size", name), tied, bias, maxContext);
        }
    }

    private static int Int(JsonElement root, string property, string name) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0
            ? n
            : throw new PlannerInputException($"config '{name}' lacks a positive integer '{property}'");
}
