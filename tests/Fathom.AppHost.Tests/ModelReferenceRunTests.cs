using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Fathom.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fathom.AppHost.Tests;

/// <summary>
/// <c>Parameters:model</c> set to a reference: the AppHost passes it (and <c>HF_ENDPOINT</c>, <c>FATHOM_MODELS</c>)
/// to its engines, which pull it from the hub once between them, show the pull in their console logs, and serve it.
/// </summary>
public sealed class ModelReferenceRunTests
{
    [Fact]
    public async Task Two_engine_replicas_on_a_reference_pull_it_once_log_the_pull_and_become_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        byte[] model = await File.ReadAllBytesAsync(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), ct);
        await using var hub = await FakeHub.StartAsync();
        hub.AddFile("acme/Stories-GGUF", "stories260K-F32.gguf", model);
        hub.BytesPerSecond = 512 * 1024;
        string store = Directory.CreateTempSubdirectory("fathom-apphost-store-").FullName;
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
                [
                    "--Fathom:KvCache:Mode=none", "--Fathom:Engine:Replicas=2",
                    "--Parameters:model=hf.co/acme/Stories-GGUF:F32",
                    $"--HF_ENDPOINT={hub.Endpoint}", $"--FATHOM_MODELS={store}",
                ], ct);
            // The testing host forwards each resource's console log to ILogger under Fathom.AppHost.Resources.{name}.
            var logs = new ConcurrentQueue<string>();
            builder.Services.AddLogging(l => l.AddProvider(new CollectingLoggerProvider("Fathom.AppHost.Resources.engine-", logs)));
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(4));
            await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-0", timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-1", timeout.Token);
            await Task.Delay(1000, ct);

            string all = string.Join('\n', logs);
            Assert.Contains("Pulling hf.co/acme/Stories-GGUF:F32: stories260K-F32.gguf (1/1)", all);
            Assert.Contains("complete", all);
            Assert.Single(hub.Requests, r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(store, "hf.co", "acme", "stories-gguf", "gguf", "F32", "stories260K-F32.gguf")));
            foreach (var name in new[] { "engine-0", "engine-1" })
            {
                using var http = app.CreateHttpClient(name, "http");
                using var ready = await http.GetAsync("/health/ready", ct);
                Assert.True(ready.IsSuccessStatusCode, $"{name} /health/ready: {ready.StatusCode}\n{all}");
            }
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    private sealed class CollectingLoggerProvider(string categoryPrefix, ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collector(categoryName.StartsWith(categoryPrefix, StringComparison.Ordinal) ? lines : null, categoryName);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<string>? lines, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => lines is not null;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines?.Enqueue($"{category}: {formatter(state, exception)}");
        }
    }
}
