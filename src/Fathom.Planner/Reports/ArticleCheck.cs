using System.Globalization;
using Fathom.Planner.Models;

namespace Fathom.Planner.Reports;

/// <summary>
/// Checks the article's claims about DeepSeek-R1-Distill-Llama-70B on H100s against the planner, row by row.
/// Verdicts come from the computed numbers, not from text typed here.
/// </summary>
public static class ArticleCheck
{
    /// <summary>The model the article is about.</summary>
    public const string Model = "deepseek-r1-distill-llama-70b";

    private const string Gpu = "h100-sxm";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Runs every check with <paramref name="planner"/>.</summary>
    public static IReadOnlyList<ArticleClaimCheck> Run(HardwarePlanner planner)
    {
        ArgumentNullException.ThrowIfNull(planner);
        var shape = ModelPresets.Get(Model);
        PlanResult Plan(string weights, int concurrency = 1, int? tp = null) =>
            planner.Plan(new PlanRequest { Model = Model, Weights = weights, Gpu = Gpu, Concurrency = concurrency, Tp = tp });

        return [Fp16(Plan("bf16")), Int8(Plan("int8"), Plan("q8_0"), shape), FourBit(Plan("q4_k_m"), Plan("gptq-4bit")), Throughput(Plan("bf16", 8, 8))];
    }

    private static ArticleClaimCheck Fp16(PlanResult plan)
    {
        var min = plan.Layouts.First(l => l.Fits);
        var planned = $"{Gb(plan.WeightsBytes)} GB of weights; minimum {plan.MinGpus} x H100 (TP={min.Tp}) with room for {min.MaxConcurrentSequences} sequences of {plan.Workload.PromptTokens + plan.Workload.OutputTokens} tokens";
        return plan.MinGpus < 8
            ? new("FP16 needs 8xH100, TP=8", planned, "overstated",
                $"{plan.MinGpus} GPUs hold the weights ({Gb(min.MemoryPerGpu.Weights)} GB each) plus {Gb(min.MemoryPerGpu.KvCache)} GB of KV per GPU; TP=8 is a throughput choice ({F(plan.Layouts.Single(l => l.Tp == 8).DecodeTokSPerUser)} vs {F(min.DecodeTokSPerUser)} tok/s per user), not a requirement")
            : new("FP16 needs 8xH100, TP=8", planned, "agrees", "the weights and one full-context sequence need eight GPUs");
    }

    private static ArticleClaimCheck Int8(PlanResult int8, PlanResult q80, ModelShape shape)
    {
        var planned = $"{Gb(int8.WeightsBytes)} GB (int8 per-channel) / {Gb(q80.WeightsBytes)} GB (q8_0); minimum {int8.MinGpus} x H100; valid TP {string.Join("/", int8.ValidTp.Where(t => t <= 8))}";
        var sixValid = TensorParallelism.IsValid(shape, 6);
        var tooBig = 90e9 > q80.WeightsBytes * 1.1;
        var reasons = new List<string>();
        if (tooBig)
        {
            reasons.Add($"8-bit weights are {Gb(int8.WeightsBytes)}-{Gb(q80.WeightsBytes)} GB, not ~90");
        }

        if (int8.MinGpus < 4)
        {
            var one = int8.Layouts.First(l => l.Fits);
            reasons.Add($"they fit {int8.MinGpus} x H100 ({Gb(one.MemoryPerGpu.KvCache)} GB left for KV, {one.MaxConcurrentSequences} sequences)");
        }

        if (!sixValid)
        {
            reasons.Add($"6 GPUs is not a valid tensor-parallel split of {shape.Heads} heads / {shape.KvHeads} KV heads");
        }

        return new("INT8 ~90 GB on 4-6 GPUs", planned, reasons.Count == 0 ? "agrees" : "wrong", reasons.Count == 0 ? "matches" : string.Join("; ", reasons));
    }

    private static ArticleClaimCheck FourBit(PlanResult q4km, PlanResult gptq)
    {
        var low = Math.Min(q4km.WeightsBytes, gptq.WeightsBytes);
        var high = Math.Max(q4km.WeightsBytes, gptq.WeightsBytes);
        var one = q4km.Layouts.First(l => l.Fits);
        var planned = $"{Gb(low)}-{Gb(high)} GB (gptq-4bit-g128 / q4_k_m); minimum {q4km.MinGpus} x H100, {one.MaxConcurrentSequences} sequences fit at TP={one.Tp}";
        return q4km.MinGpus < 2
            ? new("4-bit ~45-50 GB on 2xH100", planned, "wrong",
                $"4-bit weights incl. block/group scales are {Gb(low)}-{Gb(high)} GB and fit one 80 GB GPU with {Gb(one.MemoryPerGpu.KvCache)} GB left for KV; a second GPU buys speed ({F(q4km.Layouts.Single(l => l.Tp == 2).DecodeTokSPerUser)} vs {F(one.DecodeTokSPerUser)} tok/s per user), not capacity")
            : new("4-bit ~45-50 GB on 2xH100", planned, "agrees", "two GPUs are needed");
    }

    private static ArticleClaimCheck Throughput(PlanResult plan)
    {
        var perUser = plan.DecodeTokSPerUser;
        var aggregate = plan.AggregateTokS;
        var planned = $"bf16, TP=8, batch 8: {F(perUser)} tok/s per user, {F(aggregate)} tok/s aggregate";
        var perUserFits = perUser is >= 80 * 0.75 and <= 120 * 1.25;
        return perUserFits
            ? new("80-120 tok/s at batch 8 on 8xH100", planned, "right per user, wrong as aggregate",
                $"one decode step streams {Gb(plan.Recommended.MemoryPerGpu.Weights)} GB per GPU and serves all 8 sequences, so 8 users get ~{F(perUser)} tok/s each = {F(aggregate)} tok/s in total ({F(aggregate / 100)}x the article's midpoint); with more concurrency it keeps growing")
            : new("80-120 tok/s at batch 8 on 8xH100", planned, "wrong", $"per-user speed is {F(perUser)} tok/s");
    }

    internal static string Gb(long bytes) => (bytes / 1e9).ToString("0.0", Invariant);

    internal static string F(double value) => value.ToString(value < 10 ? "0.0" : "0", Invariant);
}
