using System.CommandLine;
using System.Text.Json;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom bench serve --url URL</c>: a load generator for an OpenAI-compatible server. Keeps
/// <c>--concurrency</c> streaming <c>/v1/completions</c> requests in flight until <c>--requests</c> are done, each
/// with a distinct <c>--prompt-tokens</c>-token prompt (token ids, so no prefix is shared) and exactly
/// <c>--gen-tokens</c> output tokens (<c>ignore_eos</c>), and prints throughput with TTFT, ITL and latency percentiles and the ITL's p99/p50.
/// </summary>
internal static class BenchServeCommand
{
    /// <summary>Adds <c>serve</c> under the root's <c>bench</c> verb.</summary>
    public static void AddTo(RootCommand root) =>
        root.Subcommands.First(c => c.Name == "bench").Subcommands.Add(Create());

    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Base URL of the server, e.g. http://127.0.0.1:5180.", Required = true };
        var model = new Option<string?>("--model") { Description = "Model name to request (default: the first of /v1/models)." };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once.", DefaultValueFactory = _ => 8 };
        var requests = new Option<int>("--requests") { Description = "Requests in all.", DefaultValueFactory = _ => 32 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length in tokens.", DefaultValueFactory = _ => 128 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Output tokens per request.", DefaultValueFactory = _ => 64 };
        var seed = new Option<int?>("--seed") { Description = "Salts the prompts; the same seed repeats the same prompts (to measure prefix caching). Default: random." };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object." };
        var timeline = new Option<string?>("--timeline") { Description = "Write each request's send time and chunk arrival times to this file, one JSON line per request." };
        var command = new Command("serve", "Load-test an OpenAI-compatible server: throughput, TTFT and ITL percentiles.")
        {
            url, model, concurrency, requests, promptTokens, genTokens, seed, json, timeline,
        };
        command.SetAction((r, ct) => RunAsync(
            new ServeBenchSettings(r.GetRequiredValue(url), r.GetValue(model), r.GetValue(concurrency), r.GetValue(requests), r.GetValue(promptTokens), r.GetValue(genTokens))
            {
                Seed = r.GetValue(seed) ?? Random.Shared.Next(),
            },
            r.GetValue(json), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, ct, r.GetValue(timeline)));
        return command;
    }

    internal static async Task<int> RunAsync(ServeBenchSettings settings, bool json, TextWriter output, TextWriter error, CancellationToken cancellationToken, string? timelinePath = null)
    {
        try
        {
            settings.Validate();
            using var http = new HttpClient { BaseAddress = settings.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
            var result = await ServeBench.RunAsync(http, settings, cancellationToken);
            output.WriteLine(json ? result.ToJson() : result.ToText());
            if (timelinePath is not null)
            {
                await File.WriteAllLinesAsync(timelinePath, result.TimelineLines(), cancellationToken);
            }

            return result.Failed == 0 ? 0 : ModelCommandSupport.ExitFailure;
        }
        catch (Exception e) when (e is HttpRequestException or ArgumentException or JsonException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            return ModelCommandSupport.Fail(error, "bench serve", e);
        }
    }
}
