using Fathom.Planner.Formats;
using Fathom.Planner.Hardware;
using Fathom.Planner.Models;
using Fathom.Planner.Performance;

namespace Fathom.Planner;

/// <summary>
/// Answers "what hardware does this model need?": exact memory per GPU, valid parallel layouts, the fewest
/// GPUs, a recommended layout, decode speed per user and in aggregate, time to first token, cost per
/// cloud instance, and fine-tuning memory.
/// </summary>
public sealed class HardwarePlanner
{
    private const int MaxPipelineStages = 16;
    private readonly HardwareCatalog _catalog;
    private readonly EfficiencyModel _efficiency;

    /// <summary>Creates a planner over a catalog and efficiency model (defaults: the shipped ones).</summary>
    public HardwarePlanner(HardwareCatalog? catalog = null, EfficiencyModel? efficiency = null)
    {
        _catalog = catalog ?? HardwareCatalog.Default;
        _efficiency = efficiency ?? EfficiencyModel.Default;
    }

    /// <summary>The catalog in use.</summary>
    public HardwareCatalog Catalog => _catalog;

    /// <summary>The efficiency model in use (before calibration).</summary>
    public EfficiencyModel Efficiency => _efficiency;

    /// <summary>Plans <paramref name="request"/>, applying any <paramref name="calibration"/> records for its device.</summary>
    /// <exception cref="PlannerInputException">Unknown model, GPU or format; invalid numbers; a forced TP that does not split the model.</exception>
    public PlanResult Plan(PlanRequest request, IReadOnlyList<CalibrationRecord>? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var (shape, fileWeights) = ModelSource.Resolve(request.Model);
        var weights = request.Weights is null && fileWeights is not null
            ? fileWeights
            : WeightBudget.Estimate(shape, WeightFormat.Parse(request.Weights ?? "bf16", request.GroupSize));
        return Plan(request, shape, weights, calibration);
    }

    /// <summary>Plans a model whose shape and weight bytes are already known.</summary>
    /// <exception cref="PlannerInputException">Unknown GPU or KV type; invalid numbers; a forced TP that does not split the model.</exception>
    public PlanResult Plan(PlanRequest request, ModelShape shape, WeightBudget weights, IReadOnlyList<CalibrationRecord>? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(weights);
        request.Validate();
        var kv = KvCacheType.Parse(request.KvCache);
        var assumptions = new List<string> { $"weights: {weights.Source}" };
        var (gpu, efficiency, cpu) = ResolveDevice(request, weights, calibration ?? [], assumptions);

        var validTp = TensorParallelism.ValidSizes(shape);
        var evaluator = new LayoutEvaluator(shape, weights, kv, gpu, efficiency, request, cpu);
        var layouts = Candidates(shape, gpu, validTp, request).Select(l => evaluator.Evaluate(l.Tp, l.Pp)).ToList();
        layouts = Trim(layouts, request);

        var fitting = layouts.Where(l => l.Fits).ToList();
        var recommended = layouts.FirstOrDefault(l => l.MeetsTargets);
        if (recommended is null)
        {
            recommended = fitting.Where(l => l.Pp == 1).LastOrDefault() ?? fitting.FirstOrDefault() ?? layouts[^1];
            assumptions.Add(fitting.Count == 0
                ? $"the model does not fit on up to {layouts[^1].Gpus} x {gpu.Id} at context {request.Context}; the largest layout is shown"
                : $"no layout meets the concurrency and targets; showing TP={recommended.Tp} PP={recommended.Pp}, the largest single-node layout that fits");
        }

        if (recommended.EffectiveConcurrency < request.Concurrency)
        {
            assumptions.Add($"only {recommended.EffectiveConcurrency} of {request.Concurrency} sequences fit at once; the rest queue");
        }

        assumptions.AddRange(LayoutEvaluator.Assumptions());
        assumptions.AddRange(efficiency.Provenance);
        if (cpu is not null)
        {
            assumptions.AddRange(cpu.Provenance());
        }

        assumptions.AddRange(FineTuningEstimator.Assumptions(request.FineTuneSequence));
        assumptions.Add("costs: on-demand list prices (source and date per instance); replicas of the layout fill each instance; multi-node layouts pay for every node");

        return new PlanResult
        {
            Model = shape.Name,
            Parameters = shape.Parameters,
            WeightsFormat = weights.FormatId,
            Gpu = gpu.Id,
            GpuName = gpu.Name,
            KvCache = kv.Id,
            Workload = new PlanWorkload(request.Context, request.Concurrency, request.PromptTokens, request.OutputTokens),
            WeightsBytes = weights.TotalBytes,
            WeightsBytesByType = weights.BytesByStorage,
            WeightsSource = weights.Source,
            KvBytesPerToken = shape.KvBytesPerToken(kv),
            MinGpus = fitting.Count == 0 ? null : fitting.Min(l => l.Gpus),
            MinGpusByGpu = _catalog.Gpus.ToDictionary(g => g.Id, g => string.Equals(g.Id, gpu.Id, StringComparison.OrdinalIgnoreCase)
                ? (fitting.Count == 0 ? null : fitting.Min(l => l.Gpus))
                : MinGpus(shape, weights, kv, g, _efficiency, request with { Tp = null, Pp = null })),
            ValidTp = validTp,
            TpNotes = TensorParallelism.Notes(shape, validTp),
            Recommended = recommended,
            Layouts = layouts,
            Instances = Costs(gpu, recommended),
            FineTuning = FineTuningEstimator.Estimate(shape, gpu, request.FineTuneSequence),
            Assumptions = assumptions,
        };
    }

    private static int? MinGpus(ModelShape shape, WeightBudget weights, KvCacheType kv, GpuSpec gpu, EfficiencyModel efficiency, PlanRequest request)
    {
        var evaluator = new LayoutEvaluator(shape, weights, kv, gpu, efficiency, request);
        return Candidates(shape, gpu, TensorParallelism.ValidSizes(shape), request)
            .Select(l => evaluator.Evaluate(l.Tp, l.Pp)).FirstOrDefault(l => l.Fits)?.Gpus;
    }

    private (GpuSpec Gpu, EfficiencyModel Efficiency, CpuDecodeModel? Cpu) ResolveDevice(PlanRequest request, WeightBudget weights, IReadOnlyList<CalibrationRecord> calibration, List<string> assumptions)
    {
        var gpuId = request.Gpu;
        var forDevice = calibration.Where(c => string.Equals(c.Device, gpuId, StringComparison.OrdinalIgnoreCase)).ToList();
        GpuSpec gpu;
        try
        {
            gpu = _catalog.GetGpu(gpuId);
        }
        catch (PlannerInputException) when (forDevice.Count > 0)
        {
            gpu = forDevice[0].ToDevice();
            assumptions.Add($"device '{gpu.Id}' is not in the catalog: memory, peak bandwidth and peak TFLOP/s (1 when the record has none) come from its calibration record");
        }

        var efficiency = _efficiency;
        foreach (var other in calibration.Except(forDevice))
        {
            assumptions.Add($"calibration for '{other.Device}' ignored: the plan is for '{gpu.Id}'");
        }

        // A CPU measured with per-type kernel rates is predicted from those, for any format and thread count.
        if (CpuDecodeModel.From(forDevice, weights.FormatId, request.Threads) is { } cpu)
        {
            return (gpu, efficiency, cpu);
        }

        if (request.Threads is not null)
        {
            assumptions.Add($"--threads ignored: no calibration record for '{gpu.Id}' carries CPU kernel rates");
        }

        var match = forDevice.LastOrDefault(c => c.Kernel == weights.Kernel);
        if (match is not null)
        {
            efficiency = efficiency.WithBandwidthFraction(weights.Kernel, match.BandwidthFraction,
                $"calibrated: {weights.Kernel} decode bandwidth fraction {match.BandwidthFraction:0.###} measured by fathom bench on {match.Device} ({match.Model}, {match.Weights}, {match.MeasuredTokSPerUser:0.#} tok/s{(match.Date is null ? "" : ", " + match.Date)})");
        }
        else if (forDevice.Count > 0)
        {
            assumptions.Add($"calibration for '{gpu.Id}' measured other kernel families than {weights.Kernel}; published defaults used");
        }

        return (gpu, efficiency, null);
    }

    private static IEnumerable<(int Tp, int Pp)> Candidates(ModelShape shape, GpuSpec gpu, IReadOnlyList<int> validTp, PlanRequest request)
    {
        if (request.Tp is { } forcedTp && !TensorParallelism.IsValid(shape, forcedTp))
        {
            throw new PlannerInputException($"TP={forcedTp} does not split {shape.Name} ({shape.Heads} heads, {shape.KvHeads} KV heads, FFN {shape.FfnSize}); valid: {string.Join(", ", validTp)}");
        }

        if (request.Pp is { } forcedPp && forcedPp > shape.Layers)
        {
            throw new PlannerInputException($"PP={forcedPp} exceeds the model's {shape.Layers} layers");
        }

        if (request.Tp is not null || request.Pp is not null)
        {
            yield return (request.Tp ?? 1, request.Pp ?? 1);
            yield break;
        }

        var inNode = validTp.Where(t => t <= gpu.MaxPerNode).ToList();
        foreach (var t in inNode)
        {
            yield return (t, 1);
        }

        for (var p = 2; p <= Math.Min(MaxPipelineStages, shape.Layers); p++)
        {
            yield return (inNode[^1], p);
        }
    }

    // Pipeline layouts only matter while nothing smaller fits; keep up to the first that fits.
    private static List<LayoutPlan> Trim(List<LayoutPlan> layouts, PlanRequest request)
    {
        var firstPipelineFit = layouts.FindIndex(l => l.Pp > 1 && l.Fits);
        var singleStageFits = layouts.Any(l => l.Pp == 1 && l.Fits);
        return [.. layouts.Where((l, i) => l.Pp == 1 || request.Pp is not null
            || (!singleStageFits && (firstPipelineFit < 0 || i <= firstPipelineFit)))];
    }

    private List<InstanceCost> Costs(GpuSpec gpu, LayoutPlan layout) =>
    [
        .. _catalog.InstancesOf(gpu.Id).Select(i =>
        {
            var instances = layout.Gpus <= i.Gpus ? 1 : (layout.Gpus + i.Gpus - 1) / i.Gpus;
            var replicas = layout.Gpus <= i.Gpus ? i.Gpus / layout.Gpus : 1;
            var aggregate = replicas * layout.AggregateTokS;
            var price = i.PricePerHour * instances;
            double? cost = price is { } p && aggregate > 0 ? p / (aggregate * 3600) * 1e6 : null;
            return new InstanceCost(i.Id, i.Provider, i.Gpus, instances, replicas, price, aggregate, cost, $"{i.Source} ({i.Region}, {i.Date})");
        }),
    ];
}
