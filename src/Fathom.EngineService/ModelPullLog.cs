using Fathom.Models;

namespace Fathom.EngineService;

/// <summary>
/// A pull's progress as log lines (the AppHost shows them in the engine's console log): one when a file starts or
/// the stage changes, then one every few seconds. <see cref="Status"/> is what readiness reports meanwhile.
/// </summary>
internal sealed partial class ModelPullLog(ILogger logger, TimeSpan interval) : IProgress<PullProgress>
{
    private readonly Lock _gate = new();
    private DateTime _last = DateTime.MinValue;
    private (string?, PullStage) _lastState;

    /// <summary>The latest progress in words, e.g. <c>pulling hf.co/ORG/REPO:Q4_K_M: … 45% …</c>.</summary>
    public string? Status { get; private set; }

    public void Report(PullProgress value)
    {
        Status = $"pulling {value.Reference}: {value.Describe()}";
        lock (_gate)
        {
            var state = (value.File, value.Stage);
            if (state == _lastState && DateTime.UtcNow - _last < interval)
            {
                return;
            }

            _lastState = state;
            _last = DateTime.UtcNow;
        }

        LogProgress(logger, value.Reference, value.Describe());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pulling {Reference}: {Progress}")]
    private static partial void LogProgress(ILogger logger, string reference, string progress);
}
