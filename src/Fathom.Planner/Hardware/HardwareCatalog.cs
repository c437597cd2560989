namespace Fathom.Planner.Hardware;

/// <summary>The GPUs and cloud instances the planner knows, loaded from the embedded data files.</summary>
public sealed class HardwareCatalog
{
    private readonly Dictionary<string, GpuSpec> _gpus;

    /// <summary>Creates a catalog from explicit lists (tests, or a device added by a calibration record).</summary>
    public HardwareCatalog(IEnumerable<GpuSpec> gpus, IEnumerable<CloudInstance> instances)
    {
        Gpus = [.. gpus];
        Instances = [.. instances];
        _gpus = Gpus.ToDictionary(g => g.Id, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The catalog shipped with the planner (Data/gpus.json, Data/instances.json).</summary>
    public static HardwareCatalog Default { get; } = new(
        PlanJson.LoadEmbedded<GpuFile>("gpus.json").Gpus,
        PlanJson.LoadEmbedded<InstanceFile>("instances.json").Instances);

    /// <summary>Every GPU, in file order.</summary>
    public IReadOnlyList<GpuSpec> Gpus { get; }

    /// <summary>Every instance, in file order.</summary>
    public IReadOnlyList<CloudInstance> Instances { get; }

    /// <summary>Finds a GPU by id; also accepts a few common spellings (h100 → h100-sxm, a100 → a100-80, 4090 → rtx-4090).</summary>
    /// <exception cref="PlannerInputException">Unknown GPU.</exception>
    public GpuSpec GetGpu(string id)
    {
        var key = (id ?? "").Trim().ToLowerInvariant();
        key = key switch
        {
            "h100" or "h100-80" or "h100-sxm5" => "h100-sxm",
            "a100" or "a100-80gb" => "a100-80",
            "a100-40gb" => "a100-40",
            "4090" or "rtx4090" => "rtx-4090",
            "h200-sxm" => "h200",
            _ => key,
        };
        return _gpus.TryGetValue(key, out var gpu)
            ? gpu
            : throw new PlannerInputException($"unknown GPU '{id}' (known: {string.Join(", ", Gpus.Select(g => g.Id))})");
    }

    /// <summary>Instances built from <paramref name="gpuId"/>.</summary>
    public IEnumerable<CloudInstance> InstancesOf(string gpuId) =>
        Instances.Where(i => string.Equals(i.Gpu, gpuId, StringComparison.OrdinalIgnoreCase));

    /// <summary>This catalog plus one more device.</summary>
    public HardwareCatalog With(GpuSpec gpu) => new(Gpus.Where(g => !string.Equals(g.Id, gpu.Id, StringComparison.OrdinalIgnoreCase)).Append(gpu), Instances);

    internal sealed record GpuFile(string Note, IReadOnlyList<GpuSpec> Gpus);

    internal sealed record InstanceFile(string Note, IReadOnlyList<CloudInstance> Instances);
}
