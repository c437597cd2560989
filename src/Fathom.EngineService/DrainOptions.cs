namespace Fathom.EngineService;

/// <summary>How the service shuts down: the <c>Fathom</c> section's <c>ShutdownTimeout</c> (<c>--shutdown-timeout</c>).</summary>
internal sealed class DrainOptions
{
    /// <summary>Seconds the requests in flight may run on after SIGTERM before they end with an error.</summary>
    public double ShutdownTimeout { get; set; } = 30;

    /// <summary>Time for the failed requests' error events to be written and the server to stop, beyond the drain.</summary>
    public static TimeSpan Slack { get; } = TimeSpan.FromSeconds(5);

    public TimeSpan Timeout => TimeSpan.FromSeconds(Math.Max(0, ShutdownTimeout));
}
