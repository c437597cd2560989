using System.Globalization;
using Fathom.Planner;

namespace Fathom.Cli.Commands;

/// <summary>Renders a <see cref="PlanResult"/> as readable text tables.</summary>
internal static class PlanTextWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(PlanResult plan, TextWriter o)
    {
        var w = plan.Workload;
        o.WriteLine($"Model     {plan.Model}: {N(plan.Parameters)} parameters");
        o.WriteLine($"Weights   {plan.WeightsFormat}: {N(plan.WeightsBytes)} bytes ({Gb(plan.WeightsBytes)} GB) = {string.Join(" + ", plan.WeightsBytesByType.Select(kv => $"{kv.Key} {Gb(kv.Value)} GB"))}");
        o.WriteLine($"KV cache  {plan.KvCache}: {N(plan.KvBytesPerToken)} bytes/token");
        o.WriteLine($"GPU       {plan.GpuName} ({plan.Gpu})");
        o.WriteLine(string.Create(Invariant, $"Workload  context {w.Context}, {w.Concurrency} concurrent, prompt {w.PromptTokens} + output {w.OutputTokens} tokens"));
        o.WriteLine($"Valid TP  {string.Join(", ", plan.ValidTp)}");
        foreach (var note in plan.TpNotes)
        {
            o.WriteLine($"          {note}");
        }

        o.WriteLine($"Min GPUs  {(plan.MinGpus?.ToString(Invariant) ?? "does not fit")}");
        o.WriteLine();

        var layouts = new TextTable("layout", "GPUs", "fits", "weights/GPU", "KV space/GPU", "max seqs", "at full ctx", "tok/s/user", "aggregate", "TTFT s", "bound");
        foreach (var l in plan.Layouts)
        {
            layouts.Add($"TP={l.Tp} PP={l.Pp}{(l == plan.Recommended ? " *" : "")}", I(l.Gpus), l.Fits ? "yes" : "no", Gb(l.MemoryPerGpu.Weights) + " GB",
                Gb(l.MemoryPerGpu.KvCache) + " GB", I(l.MaxConcurrentSequences), I(l.MaxSequencesAtFullContext), D(l.DecodeTokSPerUser), D(l.AggregateTokS),
                l.TtftS?.ToString("0.00", Invariant) ?? "sat.", l.Bound);
        }

        layouts.WriteTo(o);
        var r = plan.Recommended;
        var m = r.MemoryPerGpu;
        o.WriteLine();
        o.WriteLine($"Recommended (*): TP={r.Tp} PP={r.Pp} on {r.Gpus} GPU(s): {D(r.DecodeTokSPerUser)} tok/s per user, {D(r.AggregateTokS)} tok/s aggregate at {r.EffectiveConcurrency} sequences, TTFT {r.TtftS?.ToString("0.00", Invariant) ?? "saturated"} s");
        o.WriteLine($"Memory per GPU: {Gb(m.Total)} GB = weights {Gb(m.Weights)} + engine reserve {Gb(m.EngineReserve)} + activations {Gb(m.Activations)} + KV cache {Gb(m.KvCache)} ({N(m.KvBytesPerToken)} B/token on this GPU)");
        o.WriteLine();

        if (plan.Instances.Count > 0)
        {
            var costs = new TextTable("instance", "GPUs", "nodes", "replicas", "USD/h", "aggregate tok/s", "USD/1M out");
            foreach (var i in plan.Instances)
            {
                costs.Add(i.Instance, I(i.GpusPerInstance), I(i.Instances), I(i.Replicas), i.PricePerHour?.ToString("0.00", Invariant) ?? "unknown",
                    D(i.AggregateTokS), i.CostPerMillionOutputTokens?.ToString("0.00", Invariant) ?? "-");
            }

            costs.WriteTo(o);
            o.WriteLine();
        }

        var tuning = new TextTable("fine-tuning", "GPUs", "per GPU", "<what");
        foreach (var f in plan.FineTuning)
        {
            tuning.Add(f.Method, f.Gpus?.ToString(Invariant) ?? "-", Gb(f.BytesPerGpu) + " GB", f.Description);
        }

        tuning.WriteTo(o);
        o.WriteLine();
        o.WriteLine("Assumptions:");
        foreach (var a in plan.Assumptions)
        {
            o.WriteLine($"  - {a}");
        }
    }

    private static string Gb(long bytes) => (bytes / 1e9).ToString("0.0", Invariant);

    private static string N(long value) => value.ToString("N0", Invariant);

    private static string I(int value) => value.ToString(Invariant);

    private static string D(double value) => value.ToString(value < 10 ? "0.0" : "0", Invariant);
}
