using System.Text.Json;
using Fathom.Planner.Performance;
using Fathom.Testing;

namespace Fathom.Cli.Tests;

public sealed class PlanCommandTests
{
    [Fact]
    public async Task Json_output_carries_the_contract_fields_with_exact_figures()
    {
        var (exit, output, error) = await CliRunner.RunAsync("plan", "--model", "deepseek-r1-distill-llama-70b", "--weights", "bf16", "--gpu", "h100-sxm", "--concurrency", "8", "--json");
        Assert.True(exit == 0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(141_107_412_992, root.GetProperty("weights_bytes").GetInt64());
        Assert.Equal(327_680, root.GetProperty("kv_bytes_per_token").GetInt64());
        Assert.Equal(2, root.GetProperty("min_gpus").GetInt32());
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], root.GetProperty("valid_tp").EnumerateArray().Select(e => e.GetInt32()));
        foreach (var field in new[] { "max_concurrent_sequences", "decode_tok_s_per_user", "aggregate_tok_s", "ttft_s", "cost_per_million_output_tokens" })
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty(field).ValueKind);
        }

        Assert.NotEmpty(root.GetProperty("assumptions").EnumerateArray());
    }

    [Fact]
    public async Task The_human_output_is_a_table_with_the_recommended_layout_marked()
    {
        var (exit, output, _) = await CliRunner.RunAsync("plan", "-m", "llama-3.1-8b", "-w", "q4_k_m", "-g", "rtx-4090");
        Assert.Equal(0, exit);
        Assert.Contains("131,072 bytes/token", output);
        Assert.Contains("TP=1 PP=1 *", output);
        Assert.Contains("Assumptions:", output);
    }

    [Fact]
    public async Task An_HF_config_json_is_accepted_as_the_model()
    {
        var config = SharedFixtures.Default.GetPath("deepseek-r1-distill-llama-70b/config.json");
        var (exit, output, _) = await CliRunner.RunAsync("plan", "--model", config, "--gpu", "h200", "--json");
        Assert.Equal(0, exit);
        Assert.Equal(141_107_412_992, JsonDocument.Parse(output).RootElement.GetProperty("weights_bytes").GetInt64());
    }

    [Fact]
    public async Task F32_weights_are_accepted_for_an_F32_GGUF_and_match_the_file()
    {
        var model = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var (ownExit, own, ownError) = await CliRunner.RunAsync("plan", "--model", model, "--gpu", "h100-sxm", "--json");
        var (exit, output, error) = await CliRunner.RunAsync("plan", "--model", model, "--weights", "f32", "--gpu", "h100-sxm", "--json");
        Assert.True(ownExit == 0, ownError);
        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("f32", root.GetProperty("weights_format").GetString());
        // stories260K stores every tensor in F32, so the f32 recipe must cost exactly what the file holds.
        Assert.Equal(JsonDocument.Parse(own).RootElement.GetProperty("weights_bytes").GetInt64(), root.GetProperty("weights_bytes").GetInt64());
    }

    [Theory]
    [InlineData("--model", "gpt-9", "--gpu", "h100-sxm")]
    [InlineData("--model", "llama-3.1-8b", "--gpu", "tpu")]
    [InlineData("--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--weights", "int2")]
    [InlineData("--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp", "6")]
    [InlineData("--model", "llama-3.1-8b")]
    public async Task Bad_input_is_one_line_and_exit_code_2(params string[] args)
    {
        var (exit, output, error) = await CliRunner.RunAsync(["plan", .. args]);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("fathom plan: ", error);
    }

    [Fact]
    public async Task Check_article_prints_each_claim_beside_the_planner_with_a_verdict()
    {
        var (exit, output, _) = await CliRunner.RunAsync("plan", "--check-article");
        Assert.Equal(0, exit);
        Assert.Contains("Article: FP16 needs 8xH100, TP=8", output);
        Assert.Contains("Verdict: OVERSTATED", output);
        Assert.Contains("Article: 4-bit ~45-50 GB on 2xH100", output);
        Assert.Equal(4, output.Split("Verdict:").Length - 1);
    }

    [Fact]
    public async Task A_calibration_file_changes_the_speed_and_says_so()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fathom-calibration-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(file, CalibrationReader.Write([new CalibrationRecord(CalibrationRecord.SchemaId, "h100-sxm", "llama-3.1-8b", "bf16", 1, 1, 150, 0.9)]), TestContext.Current.CancellationToken);
            var args = new[] { "plan", "-m", "llama-3.1-8b", "-g", "h100-sxm", "--json" };
            var (_, plain, _) = await CliRunner.RunAsync(args);
            var (exit, calibrated, _) = await CliRunner.RunAsync([.. args, "--calibration", file]);
            Assert.Equal(0, exit);
            double Speed(string json) => JsonDocument.Parse(json).RootElement.GetProperty("decode_tok_s_per_user").GetDouble();
            Assert.True(Speed(calibrated) > Speed(plain) * 1.2);
            Assert.Contains("calibrated:", calibrated);

            var (badExit, _, badError) = await CliRunner.RunAsync([.. args, "--calibration", file + ".missing"]);
            Assert.Equal(2, badExit);
            Assert.Contains("calibration", badError);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Readme_section_prints_the_generated_markdown()
    {
        var (exit, output, _) = await CliRunner.RunAsync("plan", "--readme-section");
        Assert.Equal(0, exit);
        Assert.StartsWith("<!-- Generated by `fathom plan --readme-section`", output);
        Assert.Contains("## What hardware does DeepSeek-R1-Distill-Llama-70B need?", output);
    }
}
