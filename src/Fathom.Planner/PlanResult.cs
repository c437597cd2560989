namespace Fathom.Planner;

/// <summary>
/// The plan. The top-level numbers describe the recommended layout; <see cref="Layouts"/> has every layout
/// considered. Serialized with <see cref="PlanJson.Options"/> (snake_case); scripts rely on the field names.
/// </summary>
public sealed record PlanResult
{
    /// <summary>The model's name.</summary>
    public required string Model { get; init; }

    /// <summary>Parameter count.</summary>
    public required long Parameters { get; init; }

    /// <summary>The weight format id (or <c>gguf</c>).</summary>
    public required string WeightsFormat { get; init; }

    /// <summary>Catalog GPU id.</summary>
    public required string Gpu { get; init; }

    /// <summary>GPU name.</summary>
    public required string GpuName { get; init; }

    /// <summary>KV-cache element type.</summary>
    public required string KvCache { get; init; }

    /// <summary>Context, concurrency, prompt and output lengths planned for.</summary>
    public required PlanWorkload Workload { get; init; }

    /// <summary>All weight bytes, exact.</summary>
    public required long WeightsBytes { get; init; }

    /// <summary>Weight bytes per storage type (the Q4_K/Q6_K mix of a Q4_K_M file, for example).</summary>
    public required IReadOnlyDictionary<string, long> WeightsBytesByType { get; init; }

    /// <summary>Where the weight figure comes from.</summary>
    public required string WeightsSource { get; init; }

    /// <summary>KV-cache bytes per token for the whole model (all layers, K and V).</summary>
    public required long KvBytesPerToken { get; init; }

    /// <summary>Fewest GPUs (TP × PP) that hold the model and one sequence at full context; null if none up to the limit.</summary>
    public required int? MinGpus { get; init; }

    /// <summary>The same minimum for every GPU in the catalog (same model, format and workload; uncalibrated for the others).</summary>
    public required IReadOnlyDictionary<string, int?> MinGpusByGpu { get; init; }

    /// <summary>Tensor-parallel sizes that divide the query heads, the KV heads (or are multiples of them) and the FFN.</summary>
    public required IReadOnlyList<int> ValidTp { get; init; }

    /// <summary>Notes on the TP sizes: duplication above the KV head count, sizes that do not divide.</summary>
    public required IReadOnlyList<string> TpNotes { get; init; }

    /// <summary>The recommended layout.</summary>
    public required LayoutPlan Recommended { get; init; }

    /// <summary>Sequences of the expected length (prompt + output, paged) that fit in the recommended layout.</summary>
    public int MaxConcurrentSequences => Recommended.MaxConcurrentSequences;

    /// <summary>Decode tokens/s one user sees at the planned concurrency.</summary>
    public double DecodeTokSPerUser => Recommended.DecodeTokSPerUser;

    /// <summary>Output tokens/s summed over all sequences.</summary>
    public double AggregateTokS => Recommended.AggregateTokS;

    /// <summary>Time to first token (prefill + queueing), seconds; null when prefill is saturated.</summary>
    public double? TtftS => Recommended.TtftS;

    /// <summary>Lowest USD per million output tokens over the priced instances with this GPU; null when none is priced.</summary>
    public double? CostPerMillionOutputTokens => Instances.Where(i => i.CostPerMillionOutputTokens is not null).Min(i => i.CostPerMillionOutputTokens);

    /// <summary>Every layout considered, smallest first.</summary>
    public required IReadOnlyList<LayoutPlan> Layouts { get; init; }

    /// <summary>Cloud instances with this GPU, running the recommended layout.</summary>
    public required IReadOnlyList<InstanceCost> Instances { get; init; }

    /// <summary>Fine-tuning memory: full AdamW with ZeRO-3, LoRA, QLoRA.</summary>
    public required IReadOnlyList<FineTuningPlan> FineTuning { get; init; }

    /// <summary>Every assumption the numbers rest on.</summary>
    public required IReadOnlyList<string> Assumptions { get; init; }
}

/// <summary>The request's workload, echoed.</summary>
/// <param name="Context">Longest sequence admitted.</param>
/// <param name="Concurrency">Concurrent sequences.</param>
/// <param name="PromptTokens">Typical prompt.</param>
/// <param name="OutputTokens">Typical output.</param>
public sealed record PlanWorkload(int Context, int Concurrency, int PromptTokens, int OutputTokens);

/// <summary>Memory of one GPU (the fullest one), bytes.</summary>
/// <param name="Total">What the device has.</param>
/// <param name="Weights">This GPU's share of the weights.</param>
/// <param name="EngineReserve">Runtime context, communication buffers, allocator headroom.</param>
/// <param name="Activations">Activations and workspace of the largest prefill chunk.</param>
/// <param name="KvCache">What is left for the KV cache (zero or negative when nothing fits).</param>
/// <param name="KvBytesPerToken">This GPU's share of one token's KV cache.</param>
public sealed record GpuMemory(long Total, long Weights, long EngineReserve, long Activations, long KvCache, long KvBytesPerToken);

/// <summary>One parallel layout and how it performs.</summary>
/// <param name="Tp">Tensor-parallel size.</param>
/// <param name="Pp">Pipeline stages.</param>
/// <param name="Gpus">TP × PP.</param>
/// <param name="Fits">True when the weights and one sequence at full context fit.</param>
/// <param name="MemoryPerGpu">Memory of the fullest GPU.</param>
/// <param name="MaxConcurrentSequences">Sequences of expected length that fit (paged KV).</param>
/// <param name="MaxSequencesAtFullContext">Sequences of full context length that fit.</param>
/// <param name="EffectiveConcurrency">Concurrency actually decoding (the request's, capped by what fits).</param>
/// <param name="DecodeTokSPerUser">Per-user decode tokens/s.</param>
/// <param name="AggregateTokS">Total output tokens/s.</param>
/// <param name="StepMs">One decode step (ms), all stages.</param>
/// <param name="Bound">What limits the step: memory bandwidth, compute, or (a CPU calibrated with kernel rates) the measured CPU kernels.</param>
/// <param name="PrefillS">Prefill time of one prompt, seconds.</param>
/// <param name="TtftS">Prefill plus queueing, seconds; null when prefill is saturated.</param>
/// <param name="MeetsTargets">True when it fits the concurrency and any TTFT / speed targets.</param>
public sealed record LayoutPlan(
    int Tp,
    int Pp,
    int Gpus,
    bool Fits,
    GpuMemory MemoryPerGpu,
    int MaxConcurrentSequences,
    int MaxSequencesAtFullContext,
    int EffectiveConcurrency,
    double DecodeTokSPerUser,
    double AggregateTokS,
    double StepMs,
    string Bound,
    double PrefillS,
    double? TtftS,
    bool MeetsTargets);

/// <summary>Running the recommended layout on one cloud instance type.</summary>
/// <param name="Instance">Instance id.</param>
/// <param name="Provider">Cloud.</param>
/// <param name="GpusPerInstance">GPUs in one instance.</param>
/// <param name="Instances">Instances one replica needs (more than one: multi-node).</param>
/// <param name="Replicas">Replicas of the layout per instance group.</param>
/// <param name="PricePerHour">USD per hour for the instances used; null when unknown.</param>
/// <param name="AggregateTokS">Output tokens/s of all replicas.</param>
/// <param name="CostPerMillionOutputTokens">USD per million output tokens; null when the price is unknown.</param>
/// <param name="PriceSource">Where the price comes from, and when.</param>
public sealed record InstanceCost(
    string Instance,
    string Provider,
    int GpusPerInstance,
    int Instances,
    int Replicas,
    double? PricePerHour,
    double AggregateTokS,
    double? CostPerMillionOutputTokens,
    string PriceSource);

/// <summary>GPUs needed to fine-tune the model one way.</summary>
/// <param name="Method">full-adamw-zero3, lora or qlora.</param>
/// <param name="BytesTotal">Weights, gradients and optimizer states over all GPUs.</param>
/// <param name="BytesPerGpu">What the fullest GPU holds, activations and reserve included.</param>
/// <param name="Gpus">GPUs needed; null when it cannot fit at any count planned for.</param>
/// <param name="Description">What is assumed.</param>
public sealed record FineTuningPlan(string Method, long BytesTotal, long BytesPerGpu, int? Gpus, string Description);
