namespace Fathom.Planner.Performance;

/// <summary>A published single-user decode measurement (Data/measurements.json).</summary>
/// <param name="Id">Stable id.</param>
/// <param name="Engine">The serving stack that was measured.</param>
/// <param name="Model">Model preset id.</param>
/// <param name="Weights">Weight format id.</param>
/// <param name="Gpu">Catalog GPU id.</param>
/// <param name="Tp">Tensor-parallel size.</param>
/// <param name="Concurrency">Concurrent sequences during the measurement.</param>
/// <param name="TokSPerUser">Decode tokens per second seen by one sequence.</param>
/// <param name="InterTokenLatencyMs">The inter-token latency, when that is what was published.</param>
/// <param name="ReportedBandwidthGbS">The memory bandwidth the source reports achieving (per GPU), if any.</param>
/// <param name="Derives">The efficiency parameter this measurement defines, or null for a pure validation target.</param>
/// <param name="Source">Where it was published.</param>
/// <param name="Date">When (yyyy-mm).</param>
public sealed record PublishedMeasurement(
    string Id,
    string Engine,
    string Model,
    string Weights,
    string Gpu,
    int Tp,
    int Concurrency,
    double TokSPerUser,
    double? InterTokenLatencyMs,
    double? ReportedBandwidthGbS,
    string? Derives,
    string Source,
    string Date)
{
    /// <summary>The measurements shipped with the planner.</summary>
    public static IReadOnlyList<PublishedMeasurement> Default { get; } =
        PlanJson.LoadEmbedded<MeasurementFile>("measurements.json").Measurements;

    internal sealed record MeasurementFile(string Note, IReadOnlyList<PublishedMeasurement> Measurements);
}
