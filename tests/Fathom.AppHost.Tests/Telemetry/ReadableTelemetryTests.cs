using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Fathom.Testing;
using Fathom.Testing.Otlp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fathom.AppHost.Tests.Telemetry;

/// <summary>
/// What a person sees on the dashboard after <c>dotnet run --project AppHost</c>: the AppHost's services export
/// their traces to a receiver in the test for the first two minutes of a healthy start and one chat. No health-probe or
/// metric-scrape span (the API probes and polls its engines every second or two), no Error in any service's log
/// (an engine loading its model is not an error), and the chat forms one tree from the API into the engine.
/// </summary>
public sealed class ReadableTelemetryTests
{
    private static readonly string[] Services = ["api", "engine-0", "engine-1"];
    private static readonly string[] ProbePaths = ["/health", "/alive", "/metrics"];

    private static bool IsRoot(OtlpSpan span) => span.ParentSpanId.Length == 0 || span.ParentSpanId == new string('0', 16);

    private static bool IsProbe(OtlpSpan span) =>
        span.Attributes.Where(a => a.Key is "url.full" or "url.path" or "http.route" or "http.target").Select(a => a.Value as string)
            .Any(value => value is not null && ProbePaths.Any(p => value.Contains(p, StringComparison.Ordinal)))
        || ProbePaths.Any(p => span.Name.Contains(p, StringComparison.Ordinal));

    // The console logger's level prefixes (simple format) and the JSON formatter's level field.
    private static bool IsError(string line) =>
        line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal)
        || line.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal) || line.Contains("\"LogLevel\":\"Critical\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_healthy_start_and_a_chat_give_traces_without_probes_logs_without_errors_and_one_tree_per_request()
    {
        var ct = TestContext.Current.CancellationToken;
        RedisServer.RequireExecutable();
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
            ["--Fathom:KvCache:Mode=redis-server", "--Fathom:Engine:Replicas=2"], ct);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            // Added after the AppHost's own OTLP settings, so these win: every service exports to the receiver.
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                foreach (var (name, value) in receiver.Environment)
                {
                    context.EnvironmentVariables[name] = value!;
                }
            });
        }

        // The testing host forwards every resource's console lines to its own loggers, one category per resource.
        var logs = new ResourceLogRecorder();
        builder.Services.AddLogging(logging => logging.AddProvider(logs));
        await using var app = await builder.BuildAsync(ct);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await app.StartAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        foreach (string name in Services)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        // The first two minutes of a running system: dozens of probe and poll rounds (the API probes every 2 s and
        // polls load every second), each of which used to be a trace.
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(8, 120 - started.Elapsed.TotalSeconds)), ct);

        string requestId = $"telemetry-{Guid.NewGuid():N}";
        using var http = app.CreateHttpClient("api", "http");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":4,"temperature":0}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);
        // The key the AppHost generated for this run (the API holds only its hash).
        string apiKey = (await builder.Resources.OfType<ParameterResource>().Single(p => p.Name == "api-key").GetValueAsync(ct))!;
        request.Headers.Authorization = new("Bearer", apiKey);
        using (var response = await http.SendAsync(request, ct))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(ct));
        }

        List<OtlpSpan>? TraceOf(IReadOnlyList<OtlpSpan> all) =>
            all.FirstOrDefault(s => s.ServiceName == "api" && s.Attributes.TryGetValue("fathom.request_id", out var id) && (string)id == requestId) is { } tagged
                ? [.. all.Where(s => s.TraceId == tagged.TraceId)]
                : null;

        var spans = await receiver.WaitForAsync(
            all => TraceOf(all) is { } trace && trace.FirstOrDefault(s => s.Name == "generate") is { } generate
                && trace.Any(s => s.SpanId == generate.ParentSpanId),
            TimeSpan.FromSeconds(20), ct);

        Assert.True(spans.Count > 0, "no spans were exported to the receiver");
        var probes = spans.Where(IsProbe).ToList();
        Assert.True(probes.Count == 0, $"{probes.Count} probe or scrape spans, e.g.:\n{string.Join('\n', probes.Take(5))}");
        Assert.All(Services, name => Assert.True(logs.LinesOf(name) > 0, $"no log lines seen from {name}"));
        var errors = Services.SelectMany(name => logs.ErrorsOf(name, IsError)).ToList();
        Assert.True(errors.Count == 0, $"errors logged on a healthy start:\n{string.Join('\n', errors.Take(10))}");
        Assert.True(logs.AppHostErrors.Count == 0, $"the AppHost logged errors on a healthy start:\n{string.Join('\n', logs.AppHostErrors.Take(10))}");

        var trace = TraceOf(spans);
        Assert.True(trace is not null, $"no API span tagged {requestId}");
        var root = Assert.Single(trace, IsRoot);
        Assert.Equal("api", root.ServiceName);
        Assert.Contains(trace, s => s.ServiceName.StartsWith("engine-", StringComparison.Ordinal) && s.Name == "generate");
        foreach (var span in trace)
        {
            // Every span reaches the root through parents inside the trace: one tree, no orphans.
            var current = span;
            for (int hops = 0; !IsRoot(current); hops++)
            {
                Assert.True(hops < 20, "parent cycle");
                current = trace.SingleOrDefault(s => s.SpanId == current.ParentSpanId)
                    ?? throw new Xunit.Sdk.XunitException($"{current} has a parent outside the trace:\n{string.Join('\n', trace)}");
            }
        }
    }

    /// <summary>Keeps the resources' console lines that the testing host logs under <c>Fathom.AppHost.Resources.NAME</c>.</summary>
    private sealed class ResourceLogRecorder : ILoggerProvider
    {
        private const string Prefix = "Fathom.AppHost.Resources.";
        private readonly ConcurrentQueue<(string Resource, string Line)> _lines = new();
        private readonly ConcurrentQueue<string> _appHostErrors = new();

        /// <summary>What the AppHost itself logged at Error or above (e.g. a failed health probe of a starting engine).</summary>
        public IReadOnlyCollection<string> AppHostErrors => _appHostErrors;

        public int LinesOf(string resource) => _lines.Count(l => l.Resource == resource);

        public IEnumerable<string> ErrorsOf(string resource, Func<string, bool> isError) =>
            _lines.Where(l => l.Resource == resource && isError(l.Line)).Select(l => $"{resource}: {l.Line}");

        public ILogger CreateLogger(string categoryName) =>
            new Logger(this, categoryName, categoryName.StartsWith(Prefix, StringComparison.Ordinal) ? categoryName[Prefix.Length..] : null);

        public void Dispose()
        {
        }

        private sealed class Logger(ResourceLogRecorder recorder, string category, string? resource) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => resource is not null || logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (resource is not null)
                {
                    recorder._lines.Enqueue((resource, formatter(state, exception)));
                }
                else if (logLevel >= LogLevel.Error)
                {
                    recorder._appHostErrors.Enqueue($"{category}: {formatter(state, exception)}");
                }
            }
        }
    }
}
