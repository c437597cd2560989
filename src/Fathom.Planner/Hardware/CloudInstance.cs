namespace Fathom.Planner.Hardware;

/// <summary>A cloud instance type with its GPUs and on-demand price.</summary>
/// <param name="Id">Provider's instance name, prefixed with the provider.</param>
/// <param name="Provider">AWS, Azure, GCP, ...</param>
/// <param name="Gpu">Catalog id of its GPU.</param>
/// <param name="Gpus">How many GPUs it has.</param>
/// <param name="PricePerHour">On-demand USD per hour for the whole instance; null when unknown.</param>
/// <param name="Region">The region the price is for.</param>
/// <param name="Source">Where the price comes from.</param>
/// <param name="Date">When (yyyy-mm).</param>
/// <param name="SourceUrl">The public page the price was read from (not re-fetched at build time).</param>
public sealed record CloudInstance(string Id, string Provider, string Gpu, int Gpus, double? PricePerHour, string Region, string Source, string Date, string? SourceUrl = null);
