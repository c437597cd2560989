using Fathom.Planner.Hardware;
using Fathom.Planner.Performance;

namespace Fathom.Planner.Tests.Performance;

public sealed class PublishedMeasurementTests
{
    private static readonly HardwarePlanner Planner = new();

    public static TheoryData<string> Ids() => [.. PublishedMeasurement.Default.Select(m => m.Id)];

    private static PlanResult PlanFor(PublishedMeasurement m) => Planner.Plan(new PlanRequest
    {
        Model = m.Model, Weights = m.Weights, Gpu = m.Gpu, Tp = m.Tp, Concurrency = m.Concurrency,
        PromptTokens = 128, OutputTokens = 256, Context = 4096,
    });

    [Theory]
    [MemberData(nameof(Ids))]
    public void Planned_decode_speed_is_within_25_percent_of_every_published_measurement(string id)
    {
        var m = PublishedMeasurement.Default.Single(x => x.Id == id);
        var planned = PlanFor(m).DecodeTokSPerUser;
        Assert.InRange(planned / m.TokSPerUser, 0.75, 1.25);
    }

    [Fact]
    public void NIM_Llama_3_3_70B_FP8_on_two_H100_predicts_the_published_inter_token_latency()
    {
        var m = PublishedMeasurement.Default.Single(x => x.Id == "nim-llama-3.3-70b-fp8-tp2-h100");
        Assert.Equal(18.6, m.InterTokenLatencyMs);
        Assert.Null(m.Derives); // a true prediction: nothing was derived from it
        var itlMs = 1000 / PlanFor(m).DecodeTokSPerUser;
        Assert.InRange(itlMs, 18.6 * 0.75, 18.6 * 1.25);
    }

    [Fact]
    public void The_required_anchors_are_in_the_data_with_sources()
    {
        var all = PublishedMeasurement.Default;
        Assert.Contains(all, m => m.Id == "gpt-fast-llama-2-7b-fp16-a100" && m.TokSPerUser == 104.9 && m.ReportedBandwidthGbS == 1397.31);
        Assert.Contains(all, m => m.Id == "gpt-fast-llama-2-70b-int4-g32-tp8-a100" && m.Tp == 8 && Math.Abs(m.TokSPerUser - 90.8) < 0.05 && m.Derives is null);
        Assert.All(all, m => Assert.False(string.IsNullOrWhiteSpace(m.Source)));
        Assert.All(all, m => Assert.Matches(@"^\d{4}-\d{2}$", m.Date));
    }

    [Fact]
    public void Efficiency_is_derived_from_the_data_not_typed_in()
    {
        var e = EfficiencyModel.Default;
        Assert.Equal(1397.31 / 2039, e.DenseBandwidthFraction, 6);
        Assert.Equal(862.69 / 2039, e.Int4BandwidthFraction, 6);
        Assert.InRange(e.FastHopSeconds, 0.1e-6, 5e-6);

        // Change the measurement that defines the dense fraction and the derived model follows.
        var changed = PublishedMeasurement.Default.Select(m => m.Derives == "dense_bandwidth_fraction" ? m with { ReportedBandwidthGbS = 1300 } : m).ToList();
        var derived = EfficiencyModel.Derive(HardwareCatalog.Default, changed);
        Assert.Equal(1300 / 2039.0, derived.DenseBandwidthFraction, 6);
        Assert.True(derived.FastHopSeconds < e.FastHopSeconds); // slower streaming leaves less time to explain by hops
    }

    [Fact]
    public void Tensor_parallel_all_reduces_cost_more_on_PCIe_and_with_more_GPUs()
    {
        var e = EfficiencyModel.Default;
        var catalog = HardwareCatalog.Default;
        Assert.Equal(0, e.AllReduceSeconds(catalog.GetGpu("h100-sxm"), 1, 16384));
        Assert.True(e.AllReduceSeconds(catalog.GetGpu("h100-sxm"), 8, 16384) > e.AllReduceSeconds(catalog.GetGpu("h100-sxm"), 2, 16384));
        Assert.True(e.AllReduceSeconds(catalog.GetGpu("l40s"), 2, 16384) > e.AllReduceSeconds(catalog.GetGpu("h100-sxm"), 2, 16384));
    }
}
