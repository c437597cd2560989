namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Endpoint metadata on what <see cref="Extensions.MapDefaultEndpoints"/> maps, so a service can choose the listener
/// each answers on: the orchestrator's probes everywhere, the details (<c>/metrics</c>, <c>/health</c> with every
/// check) only where operators look.
/// </summary>
public sealed class DefaultEndpointMetadata
{
    private DefaultEndpointMetadata(bool isProbe) => IsProbe = isProbe;

    /// <summary>On <c>/alive</c> and <c>/health/ready</c>: a status word the orchestrator needs.</summary>
    public static DefaultEndpointMetadata Probe { get; } = new(isProbe: true);

    /// <summary>On <c>/metrics</c> and <c>/health</c>: what the service is doing, for operators.</summary>
    public static DefaultEndpointMetadata Details { get; } = new(isProbe: false);

    /// <summary>True for the orchestrator's probes, false for the operators' details.</summary>
    public bool IsProbe { get; }
}
