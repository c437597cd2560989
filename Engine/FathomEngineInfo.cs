namespace Fathom.Engine;

/// <summary>Version and identity of the engine build, reported by services and benchmarks.</summary>
public static class FathomEngineInfo
{
    /// <summary>The engine's informational version.</summary>
    public static string Version { get; } =
        typeof(FathomEngineInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
