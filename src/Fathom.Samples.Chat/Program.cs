// A Semantic Kernel console chat over Fathom's OpenAI-compatible API.
//   dotnet run --project src/Fathom.Samples.Chat -- [--endpoint URL] [--api-key KEY] [--model NAME] [--prompt TEXT]
//       [--system TEXT] [--temperature T] [--max-tokens N]
// With --prompt it answers once and exits; otherwise it reads lines until EOF (piped input works) or /exit.
// Under the AppHost the endpoint comes from service discovery (services:api:http:0 → https+http://api).
using Fathom.Connector;
using Fathom.Samples.Chat;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;

try
{
    var builder = Host.CreateApplicationBuilder(args);

    // Answers go to stdout; anything logged goes to stderr, and only warnings.
    builder.Logging.ClearProviders();
    builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);

    // The chat client's own failure log would repeat the one-line error this program prints.
    builder.Logging.AddFilter("Microsoft.Extensions.AI", LogLevel.None);

    var options = ChatSampleOptions.From(builder.Configuration);
    builder.Services.AddServiceDiscovery();
    builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
    builder.Services.AddHttpClient(FathomServiceCollectionExtensions.HttpClientName).AddStandardResilienceHandler(ConfigureResilience);
    builder.Services.AddKernel();

    builder.Services.AddFathomChatCompletion(options.Model ?? ModelResolver.Fallback, options.Endpoint, options.ApiKey);

    using var host = builder.Build();
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancellation.Cancel();
    };

    // Without a configured model, ask the server which one it serves; each request then names it.
    var model = await ModelResolver.ResolveAsync(
        host.Services.GetRequiredService<IHttpClientFactory>(), options.Endpoint, options.ApiKey, options.Model, cancellation.Token);
    var kernel = host.Services.GetRequiredService<Kernel>();
    var settings = new FathomPromptExecutionSettings
    {
        ModelId = model,
        Temperature = options.Temperature,
        MaxTokens = options.MaxTokens,
    };

    var session = new ChatSession(kernel, settings, Console.Out);
    session.AddSystemMessage(options.SystemPrompt);
    if (options.Prompt is { } prompt)
    {
        await session.AskAsync(prompt, cancellation.Token);
    }
    else
    {
        await session.RunAsync(Console.In, interactive: !Console.IsInputRedirected, cancellation.Token);
    }

    return 0;
}
catch (OperationCanceledException)
{
    return 130;
}
catch (Exception ex) when (ex is HttpRequestException or ArgumentException)
{
    await Console.Error.WriteLineAsync($"fathom-chat: {ex.Message}");
    return 1;
}

// Generations run for minutes on big models: allow long attempts, keep retries for transient failures.
static void ConfigureResilience(HttpStandardResilienceOptions resilience)
{
    resilience.AttemptTimeout.Timeout = TimeSpan.FromMinutes(5);
    resilience.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(12);
    resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(10);
}
