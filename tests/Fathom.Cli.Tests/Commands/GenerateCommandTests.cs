using System.Text.Json;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.Quantization;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands;

public sealed class GenerateCommandTests
{
    private static string Stories => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    [Fact]
    public async Task Greedy_story_from_token_ids_is_the_one_llama_cpp_writes()
    {
        var (exit, output, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt-ids", "1,403,407,261,378", "--max-tokens", "40", "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.StartsWith(", there was a little girl named Lily. She loved to play outside in the park.", output);
    }

    [Fact]
    public async Task Json_output_lists_prompt_tokens_tokens_and_text()
    {
        var (exit, output, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt-ids", "1,403,407,261,378", "--max-tokens", "5", "--json");
        Assert.True(exit == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal([1, 403, 407, 261, 378], doc.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(5, doc.RootElement.GetProperty("tokens").GetArrayLength());
        Assert.Equal(432, doc.RootElement.GetProperty("tokens")[0].GetInt32());
        Assert.StartsWith(", there", doc.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task F16_and_f32_kv_caches_write_the_same_greedy_story_and_an_unknown_dtype_is_one_line_and_exit_2()
    {
        string[] args = ["generate", "--model", Stories, "--prompt-ids", "1,403,407,261,378", "--max-tokens", "40", "--threads", "1", "--json"];
        var f16 = await CliRunner.RunAsync([.. args, "--kv-cache-dtype", "f16"]);
        var f32 = await CliRunner.RunAsync([.. args, "--kv-cache-dtype", "f32"]);
        Assert.True(f16.ExitCode == 0, f16.Error);
        Assert.True(f32.ExitCode == 0, f32.Error);
        Assert.Equal(f32.Output, f16.Output);

        var (exit, _, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt-ids", "1", "--kv-cache-dtype", "q4");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("--kv-cache-dtype 'q4'", error, StringComparison.Ordinal);
        Assert.Contains("auto, f16, f32, fp8", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_fp8_kv_cache_is_accepted_and_writes_the_story()
    {
        string[] args = ["generate", "--model", Stories, "--prompt-ids", "1,403,407,261,378", "--max-tokens", "12", "--threads", "1", "--json"];
        var fp8 = await CliRunner.RunAsync([.. args, "--kv-cache-dtype", "fp8"]);
        var alias = await CliRunner.RunAsync([.. args, "--kv-cache-dtype", "fp8_e4m3"]);
        Assert.True(fp8.ExitCode == 0, fp8.Error);
        Assert.Equal(fp8.Output, alias.Output);
        using var doc = JsonDocument.Parse(fp8.Output);
        Assert.Equal(12, doc.RootElement.GetProperty("tokens").GetArrayLength());
        Assert.Equal(432, doc.RootElement.GetProperty("tokens")[0].GetInt32()); // the first token comes from the prompt's fp8 K/V too
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible()
    {
        string[] args = ["generate", "--model", Stories, "--prompt-ids", "1,403", "--max-tokens", "20", "--temperature", "1.0", "--seed", "7", "--json"];
        var first = await CliRunner.RunAsync(args);
        var second = await CliRunner.RunAsync(args);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Output, second.Output);
    }

    [Fact]
    public async Task Tensor_parallel_generation_over_two_cpu_accelerators_writes_the_same_story()
    {
        var (exit, output, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt-ids", "1,403,407,261,378", "--max-tokens", "12", "--backend", "ilgpu-cpu", "--tp", "2");
        Assert.True(exit == 0, error);
        Assert.StartsWith(", there was a little girl named Lily.", output);
    }

    [Fact]
    public async Task Tensor_parallel_count_that_does_not_divide_the_heads_is_one_line_and_exit_2()
    {
        var (exit, _, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt-ids", "1", "--backend", "ilgpu-cpu", "--tp", "3");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("tensor parallelism 3 does not divide the 8 attention heads", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_file_is_one_line_and_exit_2()
    {
        var (exit, _, error) = await CliRunner.RunAsync("generate", "--model", "/no/such/model.gguf", "--prompt-ids", "1");
        Assert.Equal(2, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("fathom generate:", error);
    }

    [Fact]
    public async Task Out_of_vocabulary_prompt_id_is_a_clear_error()
    {
        var (exit, _, error) = await CliRunner.RunAsync("generate", "--model", Stories, "--prompt-ids", "1,999999");
        Assert.Equal(2, exit);
        Assert.Contains("999999", error);
    }

    [Fact]
    public async Task Bench_prints_prefill_and_decode_rates_as_json()
    {
        var (exit, output, error) = await CliRunner.RunAsync("bench", "--model", Stories, "--prompt-tokens", "16", "--gen-tokens", "4", "--runs", "1", "--json");
        Assert.True(exit == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("prefill_tok_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("decode_tok_s").GetDouble() > 0);
        Assert.Equal(CpuModel.Name, doc.RootElement.GetProperty("cpu_model").GetString());
        Assert.Equal(KernelTiers.Name(KernelTiers.Current), doc.RootElement.GetProperty("kernel_tier").GetString());
    }

    [Fact]
    public async Task Bench_names_the_cpu_and_kernel_tier_in_text()
    {
        var (exit, output, error) = await CliRunner.RunAsync("bench", "--model", Stories, "--prompt-tokens", "8", "--gen-tokens", "2", "--runs", "1");
        Assert.True(exit == 0, error);
        Assert.Contains($"cpu: {CpuModel.Name}", output, StringComparison.Ordinal);
        Assert.Contains($"kernel tier: {KernelTiers.Name(KernelTiers.Current)}", output, StringComparison.Ordinal);
    }
}
