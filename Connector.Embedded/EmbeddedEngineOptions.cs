using Fathom.Models;

namespace Fathom.Connector.Embedded;

/// <summary>How an in-process engine is loaded for <c>AddFathomEmbeddedChatCompletion</c>.</summary>
public sealed record EmbeddedEngineOptions
{
    /// <summary>CPU worker threads; null = physical cores.</summary>
    public int? Threads { get; init; }

    /// <summary>Bytes of KV cache; null = the engine's default (512 MiB).</summary>
    public long? KvCacheMemoryBytes { get; init; }

    /// <summary>Longest prompt plus output, capped by the model's context length; null = the model's.</summary>
    public int? MaxModelLength { get; init; }

    /// <summary>
    /// The model store a reference (<c>hf.co/ORG/REPO:QUANT</c>, an https URL) is resolved from and pulled into;
    /// null: <c>FATHOM_MODELS</c> (else <c>~/.cache/fathom/models</c>) and the hub in <c>HF_ENDPOINT</c> with <c>HF_TOKEN</c>.
    /// </summary>
    public ModelStoreOptions? ModelStore { get; init; }

    /// <summary>Where a pull (on first use, when the reference is not in the store yet) reports its progress.</summary>
    public IProgress<PullProgress>? PullProgress { get; init; }

    /// <summary>
    /// A chat template file (Jinja, or a <c>tokenizer_config.json</c>) that replaces the model's own, as the engine
    /// service's <c>--chat-template</c>; null = the model's.
    /// </summary>
    public string? ChatTemplatePath { get; init; }

    /// <summary>Float weights (e.g. a BF16 Hugging Face model directory) quantized as they load, as the engine service's <c>--quantize</c>.</summary>
    public Fathom.Engine.Model.WeightQuantization Quantization { get; init; } = Fathom.Engine.Model.WeightQuantization.None;
}
