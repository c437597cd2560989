using System.Diagnostics.Metrics;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Models;
using Microsoft.Extensions.Options;

namespace Fathom.EngineService;

/// <summary>
/// Loads the configured model in the background at startup (so /health answers while it loads) and owns the
/// engine that serves it. <see cref="Engine"/> is null until the model is loaded.
/// </summary>
internal sealed partial class ModelHost(
    IOptions<EngineServiceOptions> options, IMeterFactory meters, ILogger<ModelHost> logger) : BackgroundService
{
    private volatile Loaded? _loaded;
    private volatile ModelPullLog? _pull;
    private bool _draining;

    /// <summary>Why loading failed, if it did.</summary>
    public string? LoadError { get; private set; }

    /// <summary>Set on shutdown: new generations are refused (503) and readiness fails while the running ones finish.</summary>
    public bool Draining
    {
        get => Volatile.Read(ref _draining);
        set => Volatile.Write(ref _draining, value);
    }

    /// <summary>While a model reference is being pulled into the store: how far it got; else null.</summary>
    public string? PullStatus => _pull?.Status;

    public ServedModel? Model => _loaded?.Model;

    public EngineHost? Engine => _loaded?.Engine;

    /// <summary>
    /// Optional hook, set before startup, run once the model is loaded: a second KV tier for it (e.g. Redis, see
    /// KvTierExtensions) and the host's options (e.g. the tier's prefetch).
    /// </summary>
    public Func<ServedModel, EngineHostOptions, (IKvBlockTier? Tier, EngineHostOptions Options)>? ConfigureHost { get; set; }

    public override void Dispose()
    {
        // The container disposes this twice (as the singleton and as the hosted service's factory result); the
        // model's native memory must be freed once.
        if (Interlocked.Exchange(ref _loaded, null) is { } loaded)
        {
            loaded.Engine.Dispose();
            loaded.Model.Dispose();
        }

        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(async () =>
    {
        var o = options.Value;
        try
        {
            if (o.WarmUpTokens < 0)
            {
                throw new InvalidOperationException($"Fathom:WarmUpTokens (--warm-up-tokens) must be 0 (no warm-up) or more, not {o.WarmUpTokens}.");
            }

            string path = string.IsNullOrWhiteSpace(o.Model) ? BuiltInModel.Resolve(logger)
                : ModelStore.IsReference(o.Model) ? await PullAsync(o, stoppingToken)
                : o.Model;
            var model = ServedModel.Load(path, new ServedModelOptions
            {
                Backend = ComputeBackendKinds.TryParse(o.Backend, out var backend) ? backend
                    : throw new InvalidOperationException($"Fathom:Backend '{o.Backend}' is not one of {string.Join(", ", ComputeBackendKinds.AllNames)}."),
                Threads = o.Threads > 0 ? o.Threads : null,
                TensorParallel = o.TensorParallel,
                KvCacheDataType = KvCacheDataTypes.TryParse(o.KvCacheDtype, out var kvType) ? kvType
                    : throw new InvalidOperationException($"Fathom:KvCacheDtype '{o.KvCacheDtype}' is not one of {string.Join(", ", KvCacheDataTypes.AllNames)}."),
                KvCacheMemoryBytes = string.IsNullOrWhiteSpace(o.KvCacheMemory) ? null : ByteSize.Parse(o.KvCacheMemory),
                GpuMemoryUtilization = o.GpuMemoryUtilization == 0 ? null : o.GpuMemoryUtilization,
                MaxModelLength = o.MaxModelLength > 0 ? o.MaxModelLength : null,
                ServedName = string.IsNullOrWhiteSpace(o.ServedModelName) ? null : o.ServedModelName,
                ChatTemplatePath = string.IsNullOrWhiteSpace(o.ChatTemplate) ? null : o.ChatTemplate,
                Quantization = WeightQuantizations.Parse(o.Quantize ?? "")
                    ?? throw new InvalidOperationException($"Fathom:Quantize '{o.Quantize}' is not one of {string.Join(", ", WeightQuantizations.Names)}."),
            });
            if (o.WarmUpTokens > 0)
            {
                var warmUp = ModelWarmUp.Run(model.Model, o.WarmUpTokens);
                LogWarmedUp(logger, warmUp.PromptTokens, warmUp.DecodeSteps, warmUp.Elapsed.TotalSeconds);
            }

            var hostOptions = new EngineHostOptions { MaxQueuedRequests = o.MaxQueuedRequests };
            IKvBlockTier? tier = null;
            if (ConfigureHost is { } configure)
            {
                (tier, hostOptions) = configure(model, hostOptions);
            }

            hostOptions = hostOptions with { OnStepFailed = e => LogStepFailed(logger, e) };

            var metrics = new EngineMetrics(model.Name, meters);
            var weightTypes = model.Model.WeightBytesByType;
            metrics.ServedWeights(weightTypes);
            LogWeights(logger, model.Name, model.Model.WeightBytes, model.Model.StoredWeightBytes, string.IsNullOrWhiteSpace(o.Quantize) ? "none" : o.Quantize,
                string.Join(", ", weightTypes.Select(p => $"{p.Key} {p.Value} bytes")));
            var engine = EngineHostFactory.Create(model,
                new SchedulerConfig
                {
                    MaxNumSequences = o.MaxNumSequences,
                    MaxNumBatchedTokens = o.MaxNumBatchedTokens == 0 ? null : o.MaxNumBatchedTokens,
                    StepTimeTarget = o.StepTimeTargetMs == 0 ? null : TimeSpan.FromMilliseconds(o.StepTimeTargetMs),
                    StepTimeDecodeMultiple = o.StepTimeDecodeMultiple,
                    MaxAdmissionWait = TimeSpan.FromMilliseconds(o.MaxAdmissionWaitMs),
                },
                hostOptions,
                metrics,
                tier);
            _loaded = new Loaded(model, engine);
            LogLoaded(logger, model.Name, path, model.Model.BackendName, model.Model.KvBlockCount, DeviceKvDtype(model.Model), model.Model.KvCacheBytes, model.MaxModelLength);
            if (model.Model.DeviceMemoryPlan is { } plan)
            {
                LogMemoryPlan(logger, plan.ToString());
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LoadError = e.Message;
            LogLoadFailed(logger, e);
        }
    }, stoppingToken);

    // What the cache holds: an ILGPU f16 cache exchanges f32 payloads, so the plan's dtype names it when there is one.
    private static string DeviceKvDtype(LlamaModel model) =>
        KvCacheDataTypes.ToName(model.DeviceMemoryPlan?.KvDataType ?? model.KvCacheDataType);

    /// <summary>A reference (<c>hf.co/ORG/REPO:QUANT</c>…) comes from the model store, pulled first when missing, with its progress logged.</summary>
    private async Task<string> PullAsync(EngineServiceOptions o, CancellationToken stoppingToken)
    {
        using var store = new ModelStore(new ModelStoreOptions { Root = string.IsNullOrWhiteSpace(o.ModelStore) ? null : o.ModelStore });
        if (store.Find(ModelReference.Parse(o.Model!)) is { } stored)
        {
            return stored.Path;
        }

        LogPulling(logger, o.Model!, store.Root);
        _pull = new ModelPullLog(logger, TimeSpan.FromSeconds(5));
        try
        {
            return await store.ResolveAsync(o.Model!, _pull, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _pull = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fathom:Model {Reference} is not in the model store {Store}: pulling it")]
    private static partial void LogPulling(ILogger logger, string reference, string store);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Name} from {Path} on {Backend}: {Blocks} KV blocks ({KvDtype}, {KvBytes} bytes), context {Context} tokens")]
    private static partial void LogLoaded(ILogger logger, string name, string path, string backend, int blocks, string kvDtype, long kvBytes, int context);

    [LoggerMessage(Level = LogLevel.Information, Message = "Weights of {Name}: {MemoryBytes} bytes in memory, {StoredBytes} bytes stored (--quantize {Quantize}); by type: {Types}")]
    private static partial void LogWeights(ILogger logger, string name, long memoryBytes, long storedBytes, string quantize, string types);

    [LoggerMessage(Level = LogLevel.Information, Message = "Warmed up with a {Tokens}-token prefill and {Decodes} decode steps in {Seconds:F2} s")]
    private static partial void LogWarmedUp(ILogger logger, int tokens, int decodes, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "KV cache sized by --gpu-memory-utilization: {Plan}")]
    private static partial void LogMemoryPlan(ILogger logger, string plan);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The model could not be loaded")]
    private static partial void LogLoadFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "A forward step failed twice; its requests failed and the replica is not ready until a step succeeds")]
    private static partial void LogStepFailed(ILogger logger, Exception error);

    private sealed record Loaded(ServedModel Model, EngineHost Engine);
}
