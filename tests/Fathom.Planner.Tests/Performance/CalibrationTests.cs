using Fathom.Planner.Formats;
using Fathom.Planner.Models;
using Fathom.Planner.Performance;

namespace Fathom.Planner.Tests.Performance;

public sealed class CalibrationTests
{
    private static CalibrationRecord Record(string device, string weights, double fraction) =>
        new(CalibrationRecord.SchemaId, device, "llama-3.1-8b", weights, 1, 1, 100, fraction);

    [Fact]
    public void Records_round_trip_through_the_file_format_in_snake_case()
    {
        var json = CalibrationReader.Write([Record("h100-sxm", "bf16", 0.8)]);
        Assert.Contains("\"bandwidth_fraction\": 0.8", json);
        Assert.Contains("\"measured_tok_s_per_user\": 100", json);
        var back = Assert.Single(CalibrationReader.Parse(json));
        Assert.Equal(Record("h100-sxm", "bf16", 0.8), back);
        Assert.Single(CalibrationReader.Parse(JsonSingle(back)));
    }

    private static string JsonSingle(CalibrationRecord r) => System.Text.Json.JsonSerializer.Serialize(r, PlanJson.Options);

    [Theory]
    [InlineData("""{"schema":"other/1","device":"x","model":"m","weights":"bf16","tp":1,"concurrency":1,"measured_tok_s_per_user":1,"bandwidth_fraction":0.5}""", "schema")]
    [InlineData("""{"schema":"fathom.calibration/1","device":"x","model":"m","weights":"bf16","tp":1,"concurrency":1,"measured_tok_s_per_user":1,"bandwidth_fraction":1.5}""", "bandwidth_fraction")]
    [InlineData("""{"schema":"fathom.calibration/1","device":"x","model":"m","weights":"int3","tp":1,"concurrency":1,"measured_tok_s_per_user":1,"bandwidth_fraction":0.5}""", "int3")]
    [InlineData("not json", "not valid")]
    public void Bad_records_are_rejected_with_the_reason(string json, string expected)
    {
        var e = Assert.Throws<PlannerInputException>(() => CalibrationReader.Parse(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_calibration_for_the_planned_GPU_and_kernel_family_changes_decode_speed_proportionally()
    {
        var planner = new HardwarePlanner();
        var request = new PlanRequest { Model = "llama-3.1-8b", Weights = "bf16", Gpu = "h100-sxm", PromptTokens = 16, OutputTokens = 16, Context = 64 };
        var baseline = planner.Plan(request);
        var faster = planner.Plan(request, [Record("h100-sxm", "fp16", EfficiencyModel.Default.DenseBandwidthFraction * 1.2)]);
        var otherGpu = planner.Plan(request, [Record("a100-80", "bf16", 0.99)]);
        var otherFamily = planner.Plan(request, [Record("h100-sxm", "q4_k_m", 0.99)]);

        Assert.InRange(faster.DecodeTokSPerUser / baseline.DecodeTokSPerUser, 1.1, 1.2001);
        Assert.Contains(faster.Assumptions, a => a.StartsWith("calibrated:", StringComparison.Ordinal));
        Assert.Equal(baseline.DecodeTokSPerUser, otherGpu.DecodeTokSPerUser);
        Assert.Contains(otherGpu.Assumptions, a => a.Contains("ignored"));
        Assert.Equal(baseline.DecodeTokSPerUser, otherFamily.DecodeTokSPerUser);
    }

    [Fact]
    public void A_record_built_from_a_measurement_reproduces_that_measurement_when_planned()
    {
        // What fathom bench will do on a device outside the catalog (a CPU): measure, record, plan.
        var shape = ModelPresets.Get("llama-3.1-8b");
        var weights = WeightBudget.Estimate(shape, WeightFormat.Parse("q8_0"));
        var record = CalibrationRecord.FromMeasurement("cpu-test", "llama-3.1-8b", weights, kvBytesReadPerToken: 0, tp: 1, concurrency: 1,
            tokSPerUser: 2.5, peakBandwidthGbS: 40, deviceMemoryBytes: 24L << 30, deviceName: "test CPU");
        Assert.Equal(KernelClass.EightBit, record.Kernel);

        var plan = new HardwarePlanner().Plan(new PlanRequest { Model = "llama-3.1-8b", Weights = "q8_0", Gpu = "cpu-test", PromptTokens = 1, OutputTokens = 1, Context = 16 }, [record]);
        Assert.Equal("cpu-test", plan.Gpu);
        // Planned speed within 15% of the calibrating measurement: the bound for Fathom's own runs.
        Assert.InRange(plan.DecodeTokSPerUser / 2.5, 0.85, 1.15);
    }
}
