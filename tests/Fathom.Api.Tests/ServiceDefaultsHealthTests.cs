using System.Collections.Concurrent;
using System.Net;
using Fathom.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fathom.Api.Tests;

/// <summary>
/// The service defaults' health endpoints over HTTP: a check reporting Degraded (a model loading, a drain) keeps
/// traffic away like Unhealthy, but only a real failure (Unhealthy) is logged as an error.
/// </summary>
public sealed class ServiceDefaultsHealthTests
{
    private sealed class Recorder : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Recorder recorder, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                recorder.Entries.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }

    private static async Task<(HttpStatusCode Health, HttpStatusCode Ready, HttpStatusCode Alive, List<(LogLevel Level, string Category, string Message)> Logs)> ProbeAsync(HealthCheckResult result)
    {
        var ct = TestContext.Current.CancellationToken;
        var recorder = new Recorder();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(recorder);
        builder.AddServiceDefaults();
        builder.Services.AddHealthChecks().AddCheck("model", () => result, [Extensions.ReadyTag]);
        int port = ServiceProcess.FreePort();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync(ct);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            using var health = await http.GetAsync("/health", ct);
            using var ready = await http.GetAsync("/health/ready", ct);
            using var alive = await http.GetAsync("/alive", ct);
            return (health.StatusCode, ready.StatusCode, alive.StatusCode, [.. recorder.Entries]);
        }
        finally
        {
            await app.StopAsync(ct);
        }
    }

    [Fact]
    public async Task A_model_loading_is_not_ready_and_logs_no_error()
    {
        var (health, ready, alive, logs) = await ProbeAsync(HealthCheckResult.Degraded("model loading"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
        Assert.Equal(HttpStatusCode.OK, alive);
        Assert.DoesNotContain(logs, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_real_failure_is_still_logged_as_an_error()
    {
        var (_, ready, _, logs) = await ProbeAsync(HealthCheckResult.Unhealthy("model failed to load: no such file"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
        Assert.Contains(logs, e => e.Level == LogLevel.Error && e.Message.Contains("model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_healthy_service_is_ready()
    {
        var (health, ready, _, _) = await ProbeAsync(HealthCheckResult.Healthy());

        Assert.Equal(HttpStatusCode.OK, health);
        Assert.Equal(HttpStatusCode.OK, ready);
    }
}
