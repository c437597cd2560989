using System.Text.Json;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands;

/// <summary><c>fathom device-compare</c>, the check scripts/gpu-check.sh runs on a GPU, here on ILGPU's CPU accelerator.</summary>
public sealed class DeviceCompareCommandTests
{
    [Fact]
    public async Task Device_compare_reports_equal_greedy_tokens_and_close_logits_and_exits_1_when_they_are_not_close_enough()
    {
        var model = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var (exit, output, error) = await CliRunner.RunAsync("device-compare", "--model", model, "--backend", "ilgpu-cpu", "--prompt-tokens", "12", "--tokens", "3", "--json");
        Assert.True(exit == 0, error + output);
        using var result = JsonDocument.Parse(output);
        var root = result.RootElement;
        Assert.Equal("ilgpu-cpu", root.GetProperty("backend").GetString());
        Assert.True(root.GetProperty("tokens_equal").GetBoolean());
        var logitError = root.GetProperty("max_rel_logit_error").GetDouble();
        Assert.InRange(logitError, 1e-7, 3e-3); // the device's f16 KV cache against the CPU's: small, never zero

        // A tolerance below the measured error fails the check, with the same report.
        var (strict, strictOutput, _) = await CliRunner.RunAsync("device-compare", "--model", model, "--backend", "ilgpu-cpu", "--prompt-tokens", "12", "--tokens", "3", "--tolerance", "1e-9", "--json");
        Assert.Equal(1, strict);
        using var strictResult = JsonDocument.Parse(strictOutput);
        Assert.False(strictResult.RootElement.GetProperty("pass").GetBoolean());

        var (bad, _, badError) = await CliRunner.RunAsync("device-compare", "--model", model, "--backend", "gpu");
        Assert.Equal(2, bad);
        Assert.Contains("unknown backend 'gpu'", badError, StringComparison.Ordinal);
    }
}
