using System.Text.Json;
using Fathom.Engine.Diagnostics;
using Fathom.Planner.Models;
using Fathom.Planner.Performance;
using Fathom.Testing;

namespace Fathom.Cli.Tests;

public sealed class BenchCalibrationTests
{
    [Fact]
    public async Task Bench_writes_a_calibration_record_that_plan_uses_for_the_device()
    {
        var model = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var file = Path.Combine(Path.GetTempPath(), $"fathom-bench-calibration-{Guid.NewGuid():N}.json");
        const string Device = "cpu-bench-test";
        try
        {
            // Small probes keep the test quick; their rates are cache rates, which is fine for checking the plumbing.
            var (exit, _, error) = await CliRunner.RunAsync("bench", "--model", model, "--prompt-tokens", "16", "--gen-tokens", "8", "--runs", "1",
                "--threads", "1", "--backend", "cpu", "--device", Device, "--probe-mib", "8", "--calibration-out", file);
            Assert.True(exit == 0, error);

            var record = Assert.Single(CalibrationReader.Read(file));
            Assert.Equal(CalibrationRecord.SchemaId, record.Schema);
            Assert.Equal(Device, record.Device);
            Assert.Equal(Path.GetFileName(SharedFixtures.Stories260K), record.Model);
            Assert.Equal("gguf-f32", record.Weights);
            Assert.Equal(1, record.Threads);
            Assert.True(record.MeasuredTokSPerUser > 0);
            Assert.InRange(record.BandwidthFraction, double.Epsilon, 1);
            Assert.True(record.DeviceMemoryBytes > 0);
            Assert.True(record.HasKernelRates);
            Assert.Equal(DecodeKernelProbe.Types.Select(t => t.ToString()).Order(),
                record.KernelRates!.Where(r => r.Threads == 1).Select(r => r.Type).Order());
            Assert.Contains(record.ReadBandwidth!, r => r.Threads == 1);
            var (shape, weights) = GgufModelReader.Read(model);
            Assert.Equal(weights.DecodeReadBytesByStorage, record.DecodeBytesByType);
            Assert.Equal((long)(shape.KvBytesPerToken(KvCacheType.F16) * (16 + (8 / 2.0))), record.KvBytesPerStep); // the CPU engine's default f16 KV

            var (planExit, output, planError) = await CliRunner.RunAsync("plan", "--model", model, "--gpu", Device, "--calibration", file,
                "--kv-cache", "f16", "--prompt-tokens", "16", "--output-tokens", "8", "--context", "64", "--json");
            Assert.True(planExit == 0, planError);
            var plan = JsonDocument.Parse(output).RootElement;
            Assert.Equal(Device, plan.GetProperty("gpu").GetString());
            Assert.Equal(record.DeviceMemoryBytes / (1 << 20) * (1 << 20), plan.GetProperty("recommended").GetProperty("memory_per_gpu").GetProperty("total").GetInt64());
            Assert.Contains(plan.GetProperty("assumptions").EnumerateArray(), a => a.GetString()!.StartsWith("calibrated CPU decode", StringComparison.Ordinal));
            // The same model, threads and context as the calibrating run: the plan reproduces its measured speed.
            Assert.Equal(record.MeasuredTokSPerUser, plan.GetProperty("decode_tok_s_per_user").GetDouble(), record.MeasuredTokSPerUser * 1e-3);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Calibration_out_without_a_decode_measurement_is_one_line_and_exit_code_2()
    {
        var model = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var (exit, _, error) = await CliRunner.RunAsync("bench", "--model", model, "--gen-tokens", "0", "--calibration-out", Path.Combine(Path.GetTempPath(), "unused.json"));
        Assert.Equal(2, exit);
        Assert.StartsWith("fathom bench: --calibration-out needs a decode measurement", error);
    }
}
