using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Serving;

/// <summary>How to load a model for serving: backend, threads, KV cache budget and context limit.</summary>
public sealed record ServedModelOptions
{
    /// <summary>The default KV cache budget when none is given.</summary>
    public const long DefaultKvCacheMemoryBytes = 512L << 20;

    /// <summary>The compute backend.</summary>
    public ComputeBackendKind Backend { get; init; } = ComputeBackendKind.Cpu;

    /// <summary>Worker threads of the CPU backend; null: one per physical core.</summary>
    public int? Threads { get; init; }

    /// <summary>Accelerators to split the model over (see <see cref="ModelLoadOptions.TensorParallel"/>); ILGPU backends only.</summary>
    public int TensorParallel { get; init; } = 1;

    /// <summary>Bytes for the K and V of all layers (<c>--kv-cache-memory</c>); null: <see cref="DefaultKvCacheMemoryBytes"/>.</summary>
    public long? KvCacheMemoryBytes { get; init; }

    /// <summary>Element type of the KV cache (<c>--kv-cache-dtype</c>); <c>auto</c>: f16 on the CPU backend, so the budget holds twice the tokens.</summary>
    public KvCacheDataType KvCacheDataType { get; init; } = KvCacheDataType.Auto;

    /// <summary>
    /// Fraction of the device memory to use (<c>--gpu-memory-utilization</c>, e.g. 0.9): the KV cache is sized from
    /// what is free after the weights (see <see cref="ModelLoadOptions.GpuMemoryUtilization"/>). ILGPU backends only;
    /// excludes <see cref="KvCacheMemoryBytes"/>.
    /// </summary>
    public double? GpuMemoryUtilization { get; init; }

    /// <summary>Tokens per KV block.</summary>
    public int KvBlockSize { get; init; } = 16;

    /// <summary>Context length limit (prompt plus output); null: the model's trained context length.</summary>
    public int? MaxModelLength { get; init; }

    /// <summary>The name clients use for the model (<c>model</c> in requests); null: the file name without extension.</summary>
    public string? ServedName { get; init; }

    /// <summary>
    /// A chat template file that replaces the model's own (<c>--chat-template</c>): Jinja text, or a
    /// <c>tokenizer_config.json</c> with a <c>chat_template</c>; null: the GGUF's template (see <see cref="Templates.ChatTemplateFile"/>).
    /// </summary>
    public string? ChatTemplatePath { get; init; }

    /// <summary>Float weights quantized as they load (<c>--quantize q8_0|q4_k</c>); none by default.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;
}
