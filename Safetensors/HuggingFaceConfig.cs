using System.Text.Json;

namespace Fathom.Safetensors;

/// <summary>
/// The <c>config.json</c> of a Hugging Face model directory, for the architectures Fathom runs
/// (<see cref="SupportedArchitectures"/>): shape, RoPE, biases and dtype, with the Transformers defaults for absent
/// keys. Unknown architectures and values that do not fit together are rejected naming the file and the key.
/// </summary>
public sealed record HuggingFaceConfig
{
    /// <summary>The file name inside a model directory.</summary>
    public const string FileName = "config.json";

    /// <summary>The <c>architectures</c> values Fathom can run.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = ["LlamaForCausalLM", "Qwen2ForCausalLM"];

    /// <summary>The file the values came from.</summary>
    public required string FilePath { get; init; }

    /// <summary>The first (and only supported) entry of <c>architectures</c>, e.g. <c>LlamaForCausalLM</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary><c>model_type</c> (<c>llama</c>, <c>qwen2</c>), or the one the architecture implies.</summary>
    public required string ModelType { get; init; }

    /// <summary><c>hidden_size</c>: width of the residual stream.</summary>
    public required int HiddenSize { get; init; }

    /// <summary><c>num_hidden_layers</c>.</summary>
    public required int LayerCount { get; init; }

    /// <summary><c>num_attention_heads</c>.</summary>
    public required int HeadCount { get; init; }

    /// <summary><c>num_key_value_heads</c> (default: <see cref="HeadCount"/>).</summary>
    public required int KvHeadCount { get; init; }

    /// <summary><c>head_dim</c> (default: hidden_size / num_attention_heads).</summary>
    public required int HeadDimension { get; init; }

    /// <summary><c>intermediate_size</c>: hidden width of the SwiGLU feed-forward network.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary><c>vocab_size</c>.</summary>
    public required int VocabularySize { get; init; }

    /// <summary><c>max_position_embeddings</c> (default 2048).</summary>
    public required int MaxPositionEmbeddings { get; init; }

    /// <summary><c>rms_norm_eps</c> (default 1e-6).</summary>
    public required float RmsNormEpsilon { get; init; }

    /// <summary><c>rope_theta</c> (default 10000).</summary>
    public required float RopeTheta { get; init; }

    /// <summary><c>rope_scaling</c>, when present and not null.</summary>
    public HuggingFaceRopeScaling? RopeScaling { get; init; }

    /// <summary><c>tie_word_embeddings</c>: the output projection is the token embedding (no <c>lm_head.weight</c>).</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Whether the q/k/v projections carry biases (<c>attention_bias</c> for Llama; always for Qwen2).</summary>
    public bool HasQkvBias { get; init; }

    /// <summary><c>torch_dtype</c> (<c>bfloat16</c>, <c>float16</c>, <c>float32</c>), when given.</summary>
    public string? TorchDtype { get; init; }

    /// <summary><c>bos_token_id</c>, when given.</summary>
    public int? BosTokenId { get; init; }

    /// <summary><c>eos_token_id</c> (one id or a list), empty when absent.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>The raw <c>quantization_config</c> object as JSON text, or null: read by the quantized-checkpoint loaders.</summary>
    public string? QuantizationConfigJson { get; init; }

    /// <summary>Reads <c>config.json</c> from <paramref name="directory"/>.</summary>
    /// <exception cref="SafetensorsFormatException">The file is missing, not JSON, names an unsupported architecture or has inconsistent values.</exception>
    public static HuggingFaceConfig Read(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new SafetensorsFormatException(path, "", "the model directory has no config.json");
        }

        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses config.json bytes; <paramref name="path"/> names the file in errors.</summary>
    /// <exception cref="SafetensorsFormatException">As for <see cref="Read"/>.</exception>
    public static HuggingFaceConfig Parse(ReadOnlySpan<byte> json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, "", $"not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsFormatException(path, "", "must be a JSON object");
            }

            return new ConfigReader(root, path).Read();
        }
    }

    /// <summary>Reads the keys one by one so that each error names its key.</summary>
    private readonly struct ConfigReader(JsonElement root, string path)
    {
        public HuggingFaceConfig Read()
        {
            var architecture = Architecture();
            var isQwen2 = architecture == "Qwen2ForCausalLM";
            var hidden = Int("hidden_size");
            var heads = Int("num_attention_heads");
            var kvHeads = Int("num_key_value_heads", heads);
            if (heads % kvHeads != 0)
            {
                throw Error("num_key_value_heads", $"{kvHeads} does not divide num_attention_heads ({heads})");
            }

            if (!Has("head_dim") && hidden % heads != 0)
            {
                throw Error("head_dim", $"is absent and hidden_size ({hidden}) is not a multiple of num_attention_heads ({heads})");
            }

            var headDim = Int("head_dim", hidden / heads);
            if (headDim % 2 != 0)
            {
                throw Error("head_dim", $"{headDim} is odd; rotary embeddings rotate pairs of dimensions");
            }

            var act = String("hidden_act") ?? "silu";
            if (act != "silu")
            {
                throw Error("hidden_act", $"'{act}' is not supported (supported: silu)");
            }

            if (Bool("mlp_bias", false))
            {
                throw Error("mlp_bias", "true is not supported (the feed-forward projections have no biases in Fathom)");
            }

            var epsilon = Float("rms_norm_eps", 1e-6f);
            var theta = Float("rope_theta", 10000f);
            return new HuggingFaceConfig
            {
                FilePath = path,
                Architecture = architecture,
                ModelType = String("model_type") ?? (isQwen2 ? "qwen2" : "llama"),
                HiddenSize = hidden,
                LayerCount = Int("num_hidden_layers"),
                HeadCount = heads,
                KvHeadCount = kvHeads,
                HeadDimension = headDim,
                IntermediateSize = Int("intermediate_size"),
                VocabularySize = Int("vocab_size"),
                MaxPositionEmbeddings = Int("max_position_embeddings", 2048),
                RmsNormEpsilon = epsilon,
                RopeTheta = theta,
                RopeScaling = RopeScaling(),
                TieWordEmbeddings = Bool("tie_word_embeddings", false),
                HasQkvBias = isQwen2 || Bool("attention_bias", false),
                TorchDtype = String("torch_dtype") ?? String("dtype"),
                BosTokenId = Has("bos_token_id") && root.GetProperty("bos_token_id").ValueKind == JsonValueKind.Number ? Int("bos_token_id", 0, allowZero: true) : null,
                EosTokenIds = EosIds(),
                QuantizationConfigJson = root.TryGetProperty("quantization_config", out var q) && q.ValueKind == JsonValueKind.Object ? q.GetRawText() : null,
            };
        }

        private string Architecture()
        {
            if (!root.TryGetProperty("architectures", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                throw Error("architectures", $"is missing or empty (supported: {string.Join(", ", SupportedArchitectures)})");
            }

            var names = list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToList();
            var name = names[0];
            return names.Count == 1 && SupportedArchitectures.Contains(name)
                ? name
                : throw Error("architectures", $"[{string.Join(", ", names)}] is not supported (supported: {string.Join(", ", SupportedArchitectures)})");
        }

        private HuggingFaceRopeScaling? RopeScaling()
        {
            if (!root.TryGetProperty("rope_scaling", out var scaling) || scaling.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (scaling.ValueKind != JsonValueKind.Object)
            {
                throw Error("rope_scaling", $"must be an object or null, not {scaling.ValueKind}");
            }

            var nested = new ConfigReader(scaling, path);
            var type = nested.String("rope_type") ?? nested.String("type")
                ?? throw Error("rope_scaling.rope_type", "is missing");
            var factor = nested.Float("factor", 1f);
            switch (type)
            {
                case "default":
                    return null;
                case "linear":
                    return new HuggingFaceRopeScaling(type, factor, 1f, 4f, 8192);
                case "llama3":
                    var low = nested.Float("low_freq_factor", 1f);
                    var high = nested.Float("high_freq_factor", 4f);
                    if (!(high > low))
                    {
                        throw Error("rope_scaling.high_freq_factor", $"{high} must be greater than low_freq_factor ({low})");
                    }

                    return new HuggingFaceRopeScaling(type, factor, low, high, nested.Int("original_max_position_embeddings", 8192));
                default:
                    throw Error("rope_scaling.rope_type", $"'{type}' is not supported (supported: default, linear, llama3)");
            }
        }

        private List<int> EosIds()
        {
            if (!root.TryGetProperty("eos_token_id", out var eos) || eos.ValueKind == JsonValueKind.Null)
            {
                return [];
            }

            var values = eos.ValueKind == JsonValueKind.Array ? eos.EnumerateArray().ToList() : [eos];
            var ids = new List<int>();
            foreach (var v in values)
            {
                ids.Add(v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var id) && id >= 0
                    ? id
                    : throw Error("eos_token_id", $"{v.GetRawText()} is not a token id"));
            }

            return ids;
        }

        private bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

        private int Int(string key, int? fallback = null, bool allowZero = false)
        {
            if (!Has(key))
            {
                return fallback ?? throw Error(key, "is missing");
            }

            var v = root.GetProperty(key);
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && (i > 0 || (allowZero && i == 0))
                ? i
                : throw Error(key, $"{v.GetRawText()} is not a positive 32-bit integer");
        }

        private float Float(string key, float fallback)
        {
            if (!Has(key))
            {
                return fallback;
            }

            var v = root.GetProperty(key);
            return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d > 0 && double.IsFinite(d) && (float)d > 0
                ? (float)d
                : throw Error(key, $"{v.GetRawText()} is not a positive number");
        }

        private bool Bool(string key, bool fallback)
        {
            if (!Has(key))
            {
                return fallback;
            }

            var v = root.GetProperty(key);
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(key, $"{v.GetRawText()} is not true or false"),
            };
        }

        private string? String(string key)
        {
            if (!Has(key))
            {
                return null;
            }

            var v = root.GetProperty(key);
            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(key, $"{v.GetRawText()} is not a string");
        }

        private SafetensorsFormatException Error(string key, string reason) => new(path, key, reason);
    }
}
