namespace Fathom.EngineService;

/// <summary>The <c>Fathom</c> configuration section (appsettings, <c>Fathom__X</c> environment variables, command line).</summary>
internal sealed class EngineServiceOptions
{
    public const string Section = "Fathom";

    /// <summary>
    /// GGUF file or Hugging Face model directory (config.json + safetensors) to serve, or a model reference (<c>hf.co/ORG/REPO:QUANT</c>, an https URL) taken from the model store
    /// and pulled when missing; empty: the built-in model (see <see cref="BuiltInModel"/>).
    /// </summary>
    public string? Model { get; set; }

    /// <summary>The model store's folder for references; empty: <c>FATHOM_MODELS</c>, else <c>~/.cache/fathom/models</c>.</summary>
    public string? ModelStore { get; set; }

    /// <summary>Name clients put in <c>model</c>; default: the file name without extension.</summary>
    public string? ServedModelName { get; set; }

    /// <summary><c>auto</c>, <c>cpu</c>, <c>cuda</c>, <c>ilgpu-cpu</c> or <c>reference</c> (see <see cref="Engine.Model.ComputeBackendKinds"/>).</summary>
    public string Backend { get; set; } = "auto";

    /// <summary>Tensor parallelism: accelerators to split the model over (<c>--tp</c>; ILGPU backends only).</summary>
    public int TensorParallel { get; set; } = 1;

    /// <summary>CPU worker threads; 0: one per physical core.</summary>
    public int Threads { get; set; }

    /// <summary>KV cache budget, e.g. <c>512MiB</c>, <c>4GiB</c> or bytes.</summary>
    public string? KvCacheMemory { get; set; }

    /// <summary>
    /// Fraction of the device memory to use, e.g. <c>0.9</c> (<c>--gpu-memory-utilization</c>; cuda and ilgpu-cpu):
    /// the KV cache gets what the weights leave of it. 0: unset (<see cref="KvCacheMemory"/> sizes the cache).
    /// </summary>
    public double GpuMemoryUtilization { get; set; }

    /// <summary>
    /// Element type of the KV cache: <c>auto</c> (f16 on the CPU backend, f32 on the reference backend), <c>f16</c>,
    /// <c>f32</c> or <c>fp8</c> (e4m3, scale 1.0; alias <c>fp8_e4m3</c>) (see <see cref="Engine.KvCache.KvCacheDataTypes"/>);
    /// anything else fails the load.
    /// </summary>
    public string KvCacheDtype { get; set; } = "auto";

    /// <summary>Context length limit; 0: the model's.</summary>
    public int MaxModelLength { get; set; }

    /// <summary>
    /// A chat template file (<c>--chat-template</c>: Jinja, or a <c>tokenizer_config.json</c>) that replaces the model's
    /// own; empty: the model's. A missing or invalid file fails the load, as a broken model does.
    /// </summary>
    public string? ChatTemplate { get; set; }

    /// <summary>Float weights quantized as they load (<c>--quantize</c>): <c>q8_0</c>, <c>q4_k</c>, <c>fp8</c>; empty or <c>none</c>: as stored.</summary>
    public string? Quantize { get; set; }

    /// <summary>Most sequences running at once.</summary>
    public int MaxNumSequences { get; set; } = 64;

    /// <summary>Most tokens computed in one step, fixed; 0 (the default): learned to keep a step near <see cref="StepTimeTargetMs"/>.</summary>
    public int MaxNumBatchedTokens { get; set; }

    /// <summary>
    /// The time in milliseconds a forward step that carries running decodes should stay within when the token budget is
    /// learned; 0 (the default): <see cref="StepTimeDecodeMultiple"/> times a decode-only step of the running sequences
    /// (at least 50 ms).
    /// </summary>
    public int StepTimeTargetMs { get; set; }

    /// <summary>The automatic step-time target in decode-only steps (<c>--step-time-decode-multiple</c>, at least 1; default 2).</summary>
    public double StepTimeDecodeMultiple { get; set; } = Fathom.Engine.Scheduling.StepTokenBudget.DefaultDecodeStepMultiple;

    /// <summary>
    /// The most milliseconds an idle engine holds its first step after a request arrives, so that prompts sent together
    /// are prefilled in one step (<c>--max-admission-wait-ms</c>; the hold is a tenth of that step's predicted time, at
    /// most this; default 50; 0: no hold).
    /// </summary>
    public int MaxAdmissionWaitMs { get; set; } = (int)Fathom.Engine.Scheduling.AdmissionWindow.DefaultMaximum.TotalMilliseconds;

    /// <summary>
    /// The secret the API gateway sends as <c>Authorization: Bearer</c> (<c>Fathom__GatewayToken</c>, the same value on
    /// the API); when set, everything but the probes and <c>/metrics</c> requires it (see <see cref="GatewayTokenGuard"/>).
    /// </summary>
    public string? GatewayToken { get; set; }

    /// <summary>
    /// A second token accepted besides <see cref="GatewayToken"/> while it is rotated: engines accept old and new, then
    /// the API switches, then this is removed (docs/deployment.md). Ignored without <see cref="GatewayToken"/>.
    /// </summary>
    public string? PreviousGatewayToken { get; set; }

    /// <summary>
    /// Tokens of the throwaway prefill run before the replica reports ready (<c>--warm-up-tokens</c>, then
    /// <see cref="Fathom.Engine.Model.ModelWarmUp.DecodeSteps"/> decode steps), so the first requests run optimized code
    /// on touched memory; 0 turns the warm-up off. Default 16.
    /// </summary>
    public int WarmUpTokens { get; set; } = 16;

    /// <summary>Most requests waiting for admission before 429.</summary>
    public int MaxQueuedRequests { get; set; } = 256;
}
