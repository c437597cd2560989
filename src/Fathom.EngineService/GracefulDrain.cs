using Fathom.Engine.Scheduling;
using Microsoft.Extensions.Options;

namespace Fathom.EngineService;

/// <summary>
/// Shutdown in the order a load balancer needs: on SIGTERM the replica turns not ready and refuses new generations
/// (503, <c>draining</c>, see <see cref="ModelHost.Draining"/>) while the requests in flight run on for up to
/// <see cref="DrainOptions.ShutdownTimeout"/>; those still running then end with an error, and the host stops.
/// </summary>
/// <remarks>
/// It drains in <see cref="StoppingAsync"/>, which the host runs for every service before stopping any, so the
/// web server still answers (with 503s and the streams in flight) during the drain.
/// </remarks>
internal sealed partial class GracefulDrain(ModelHost host, IOptions<DrainOptions> options, IHostApplicationLifetime lifetime, ILogger<GracefulDrain> logger)
    : IHostedLifecycleService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping fires first thing on SIGTERM: readiness goes false before anything else happens.
        lifetime.ApplicationStopping.Register(() => host.Draining = true);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        host.Draining = true;
        if (host.Engine is not { } engine)
        {
            return;
        }

        var timeout = options.Value.Timeout;
        LogDraining(logger, engine.UnfinishedRequests, timeout.TotalSeconds);
        var deadline = DateTime.UtcNow + timeout;
        while (engine.UnfinishedRequests > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(Poll, CancellationToken.None);
        }

        int left = engine.UnfinishedRequests;
        if (left == 0)
        {
            return;
        }

        LogDrainTimedOut(logger, left);
        engine.FailUnfinished(new SequenceFailedException(
            $"The engine is shutting down and the request did not finish within {timeout.TotalSeconds:0.#} s; retry it.", causedByInput: false));
        var written = DateTime.UtcNow + DrainOptions.Slack / 2;
        while (engine.UnfinishedRequests > 0 && DateTime.UtcNow < written)
        {
            await Task.Delay(Poll, CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: {Requests} request(s) in flight get up to {Seconds} s")]
    private static partial void LogDraining(ILogger logger, int requests, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain time is up; {Requests} request(s) end with an error")]
    private static partial void LogDrainTimedOut(ILogger logger, int requests);
}
