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
    /// A chat template file (Jinja, or a <c>tokenizer_config.json</c>) that replaces the model's own, as the engine
    /// service's <c>--chat-template</c>; null = the model's.
    /// </summary>
    public string? ChatTemplatePath { get; init; }
}
