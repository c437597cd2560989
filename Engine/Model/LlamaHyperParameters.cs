using System.Globalization;
using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>
/// The shape of a Llama-family model (<c>llama</c> or <c>qwen2</c>), read from GGUF metadata and validated.
/// </summary>
public sealed record LlamaHyperParameters
{
    /// <summary>Architecture name as GGUF gives it (<c>llama</c> or <c>qwen2</c>).</summary>
    public required string Architecture { get; init; }

    /// <summary>Width of the residual stream (<c>n_embd</c>).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Number of transformer blocks.</summary>
    public required int LayerCount { get; init; }

    /// <summary>Query heads per layer.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Key/value heads per layer (grouped-query attention when fewer than <see cref="HeadCount"/>).</summary>
    public required int KvHeadCount { get; init; }

    /// <summary>Dimensions of one head.</summary>
    public required int HeadDimension { get; init; }

    /// <summary>Hidden width of the SwiGLU feed-forward network.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>Context length the model was trained for.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Vocabulary size (rows of the token embedding and of the output matrix).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Epsilon of the RMS normalisations.</summary>
    public required float RmsNormEpsilon { get; init; }

    /// <summary>Base of the rotary frequencies.</summary>
    public required float RopeFrequencyBase { get; init; }

    /// <summary>How many dimensions of each head are rotated (the rest pass through).</summary>
    public required int RopeDimensionCount { get; init; }

    /// <summary>Pairing convention of the rotation.</summary>
    public required RopeMode RopeMode { get; init; }

    /// <summary>Scale applied to positions (<c>1 / rope.scaling.factor</c> for linear scaling, else 1).</summary>
    public float RopeFrequencyScale { get; init; } = 1f;

    /// <summary>Llama-3 style scaling from metadata, when the file has no <c>rope_freqs.weight</c> tensor.</summary>
    public Llama3RopeScaling? Llama3Scaling { get; init; }

    /// <summary>Whether Q, K and V projections carry biases (<c>qwen2</c>).</summary>
    public bool HasQkvBias { get; init; }

    /// <summary>Query heads that share one key/value head.</summary>
    public int GroupSize => HeadCount / KvHeadCount;

    /// <summary>Width of all query heads together.</summary>
    public int QueryLength => HeadCount * HeadDimension;

    /// <summary>Width of all key (or value) heads together.</summary>
    public int KvLength => KvHeadCount * HeadDimension;

    /// <summary>Reads and validates the hyper-parameters of <paramref name="file"/>.</summary>
    /// <exception cref="ModelLoadException">The architecture is unsupported or the values are inconsistent.</exception>
    public static LlamaHyperParameters FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var path = file.FilePath;
        var meta = file.Metadata;
        string arch;
        try
        {
            arch = meta.Architecture;
        }
        catch (GgufFormatException e)
        {
            throw new ModelLoadException(path, e.Reason);
        }

        if (arch is not ("llama" or "qwen2"))
        {
            throw new ModelLoadException(path, $"architecture '{arch}' is not supported (supported: llama, qwen2)");
        }

        try
        {
            int Int(string key, int? fallback = null)
            {
                var full = $"{arch}.{key}";
                var value = meta.ContainsKey(full) ? meta.GetUInt32(full) : fallback is int f ? (uint)f
                    : throw new ModelLoadException(path, $"required metadata key '{full}' is missing");
                return value <= int.MaxValue ? (int)value
                    : throw new ModelLoadException(path, $"metadata key '{full}' = {value} is too large");
            }

            var embd = Int("embedding_length");
            var heads = Int("attention.head_count");
            var kvHeads = Int("attention.head_count_kv", heads);
            if (embd <= 0 || heads <= 0 || kvHeads <= 0)
            {
                throw new ModelLoadException(path, $"embedding_length ({embd}), head_count ({heads}) and head_count_kv ({kvHeads}) must be positive");
            }

            var headDim = Int("attention.key_length", embd % heads == 0 ? embd / heads : 0);
            var valueDim = Int("attention.value_length", headDim);
            var vocab = ReadVocabularySize(file, arch);
            var scalingType = meta.GetString($"{arch}.rope.scaling.type") ?? "none";
            var scalingFactor = meta.GetFloat32($"{arch}.rope.scaling.factor", 0f);
            var freqScale = 1f;
            Llama3RopeScaling? llama3 = null;
            switch (scalingType)
            {
                case "none":
                    break;
                case "linear":
                    freqScale = scalingFactor > 0 ? 1f / scalingFactor : 1f;
                    break;
                case "llama3":
                    if (file.FindTensor("rope_freqs.weight") is null)
                    {
                        llama3 = new Llama3RopeScaling(
                            scalingFactor > 0 ? scalingFactor : 8f,
                            meta.GetFloat32($"{arch}.rope.scaling.low_freq_factor", 1f),
                            meta.GetFloat32($"{arch}.rope.scaling.high_freq_factor", 4f),
                            Int("rope.scaling.original_context_length", 8192));
                    }

                    break;
                default:
                    throw new ModelLoadException(path, $"rope scaling type '{scalingType}' is not supported (supported: none, linear, llama3)");
            }

            var hp = new LlamaHyperParameters
            {
                Architecture = arch,
                EmbeddingLength = embd,
                LayerCount = Int("block_count"),
                HeadCount = heads,
                KvHeadCount = kvHeads,
                HeadDimension = headDim,
                FeedForwardLength = Int("feed_forward_length"),
                ContextLength = Int("context_length", 2048),
                VocabularySize = vocab,
                RmsNormEpsilon = meta.GetFloat32($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f),
                RopeFrequencyBase = meta.GetFloat32($"{arch}.rope.freq_base", 10000f),
                RopeDimensionCount = Int("rope.dimension_count", headDim),
                RopeMode = arch == "qwen2" ? RopeMode.NeoX : RopeMode.Normal,
                RopeFrequencyScale = freqScale,
                Llama3Scaling = llama3,
                HasQkvBias = arch == "qwen2",
            };
            if (valueDim != headDim)
            {
                throw new ModelLoadException(path, $"attention.value_length ({valueDim}) differs from key_length ({headDim}); not supported");
            }

            hp.Validate(path);
            return hp;
        }
        catch (GgufFormatException e)
        {
            throw new ModelLoadException(path, e.Reason);
        }
    }

    /// <summary>Checks that the values fit together.</summary>
    /// <exception cref="ModelLoadException">They do not.</exception>
    public void Validate(string? filePath = null)
    {
        void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ModelLoadException(filePath, $"{name} must be positive, got {value}");
            }
        }

        Positive(EmbeddingLength, "embedding_length");
        Positive(LayerCount, "block_count");
        Positive(HeadCount, "attention.head_count");
        Positive(KvHeadCount, "attention.head_count_kv");
        Positive(HeadDimension, "attention.key_length (head dimension)");
        Positive(FeedForwardLength, "feed_forward_length");
        Positive(ContextLength, "context_length");
        Positive(VocabularySize, "vocabulary size");
        if (HeadCount % KvHeadCount != 0)
        {
            throw new ModelLoadException(filePath, $"head_count ({HeadCount}) is not a multiple of head_count_kv ({KvHeadCount})");
        }

        if (RopeDimensionCount <= 0 || RopeDimensionCount > HeadDimension || RopeDimensionCount % 2 != 0)
        {
            throw new ModelLoadException(filePath, $"rope.dimension_count ({RopeDimensionCount}) must be even and within the head dimension ({HeadDimension})");
        }

        if (!(RmsNormEpsilon > 0) || !float.IsFinite(RmsNormEpsilon))
        {
            throw new ModelLoadException(filePath, $"layer_norm_rms_epsilon ({RmsNormEpsilon.ToString(CultureInfo.InvariantCulture)}) must be a positive number");
        }

        if (!(RopeFrequencyBase > 0) || !float.IsFinite(RopeFrequencyBase))
        {
            throw new ModelLoadException(filePath, $"rope.freq_base ({RopeFrequencyBase.ToString(CultureInfo.InvariantCulture)}) must be a positive number");
        }
    }

    private static int ReadVocabularySize(GgufFile file, string arch)
    {
        if (file.Metadata.TryGetValue("tokenizer.ggml.tokens", out var tokens) && tokens.Count > 0)
        {
            return tokens.Count;
        }

        if (file.Metadata.ContainsKey($"{arch}.vocab_size"))
        {
            return (int)Math.Min(int.MaxValue, file.Metadata.GetUInt32($"{arch}.vocab_size"));
        }

        var embedding = file.FindTensor("token_embd.weight")
            ?? throw new ModelLoadException(file.FilePath, "tensor 'token_embd.weight' is missing");
        return embedding.Dimensions.Length == 2 ? (int)Math.Min(int.MaxValue, embedding.Dimensions[1]) : 0;
    }
}
