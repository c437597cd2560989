using Microsoft.Extensions.Options;
using Fathom.EngineService.OpenAi;

namespace Fathom.EngineService;

/// <summary>Wires the engine into the web application: configuration, the model host, readiness and the OpenAI routes.</summary>
internal static class EngineServiceExtensions
{
    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--model"] = "Fathom:Model",
        ["--served-model-name"] = "Fathom:ServedModelName",
        ["--model-store"] = "Fathom:ModelStore",
        ["--backend"] = "Fathom:Backend",
        ["--threads"] = "Fathom:Threads",
        ["--tp"] = "Fathom:TensorParallel",
        ["--kv-cache-memory"] = "Fathom:KvCacheMemory",
        ["--gpu-memory-utilization"] = "Fathom:GpuMemoryUtilization",
        ["--kv-cache-dtype"] = "Fathom:KvCacheDtype",
        ["--max-model-len"] = "Fathom:MaxModelLength",
        ["--chat-template"] = "Fathom:ChatTemplate",
        ["--quantize"] = "Fathom:Quantize",
        ["--max-num-seqs"] = "Fathom:MaxNumSequences",
        ["--max-num-batched-tokens"] = "Fathom:MaxNumBatchedTokens",
        ["--step-time-target-ms"] = "Fathom:StepTimeTargetMs",
        ["--step-time-decode-multiple"] = "Fathom:StepTimeDecodeMultiple",
        ["--max-admission-wait-ms"] = "Fathom:MaxAdmissionWaitMs",
        ["--max-queued-requests"] = "Fathom:MaxQueuedRequests",
        ["--shutdown-timeout"] = "Fathom:ShutdownTimeout",
        ["--warm-up-tokens"] = "Fathom:WarmUpTokens",
    };

    /// <summary>
    /// Adds the engine: <c>--model</c> style switches, the <c>Fathom</c> options, the background model load, the ready
    /// check, and the drain on shutdown (the host's own shutdown timeout set a little above the drain's).
    /// </summary>
    public static WebApplicationBuilder AddFathomEngine(this WebApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        builder.Services.Configure<EngineServiceOptions>(builder.Configuration.GetSection(EngineServiceOptions.Section));
        builder.Services.Configure<RequestLimits>(builder.Configuration.GetSection(RequestLimits.Section));
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ModelHost>());
        builder.Services.Configure<DrainOptions>(builder.Configuration.GetSection(EngineServiceOptions.Section));
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<DrainOptions>>((host, drain) =>
            host.ShutdownTimeout = drain.Value.Timeout + DrainOptions.Slack);
        builder.Services.AddHostedService<GracefulDrain>();
        builder.Services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model", tags: [Extensions.ReadyTag]);
        return builder;
    }

    /// <summary>Maps <c>/v1/chat/completions</c>, <c>/v1/completions</c> and <c>/v1/models</c>.</summary>
    public static WebApplication MapOpenAiEndpoints(this WebApplication app)
    {
        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        app.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync);
        app.MapGet("/v1/models", ModelsEndpoint.HandleAsync);
        return app;
    }
}
