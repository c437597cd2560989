using Fathom.Safetensors;

namespace Fathom.Engine.Model;

/// <summary>Turns a Hugging Face config.json into <see cref="LlamaHyperParameters"/>.</summary>
public static class HuggingFaceHyperParameters
{
    /// <summary>
    /// The hyper-parameters of <paramref name="config"/>. The rotation is always rotate-half
    /// (<see cref="RopeMode.NeoX"/>): Transformers' q/k projections are stored for it.
    /// </summary>
    /// <exception cref="ModelLoadException">The values are inconsistent.</exception>
    public static LlamaHyperParameters From(HuggingFaceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var scaling = config.RopeScaling;
        var hp = new LlamaHyperParameters
        {
            Architecture = config.Architecture == "Qwen2ForCausalLM" ? "qwen2" : "llama",
            EmbeddingLength = config.HiddenSize,
            LayerCount = config.LayerCount,
            HeadCount = config.HeadCount,
            KvHeadCount = config.KvHeadCount,
            HeadDimension = config.HeadDimension,
            FeedForwardLength = config.IntermediateSize,
            ContextLength = config.MaxPositionEmbeddings,
            VocabularySize = config.VocabularySize,
            RmsNormEpsilon = config.RmsNormEpsilon,
            RopeFrequencyBase = config.RopeTheta,
            RopeDimensionCount = config.HeadDimension,
            RopeMode = RopeMode.NeoX,
            RopeFrequencyScale = scaling is { Type: "linear", Factor: > 0 } ? 1f / scaling.Factor : 1f,
            Llama3Scaling = scaling is { Type: "llama3" }
                ? new Llama3RopeScaling(scaling.Factor, scaling.LowFrequencyFactor, scaling.HighFrequencyFactor, scaling.OriginalMaxPositionEmbeddings)
                : null,
            HasQkvBias = config.HasQkvBias,
        };
        hp.Validate(config.FilePath);
        return hp;
    }
}
