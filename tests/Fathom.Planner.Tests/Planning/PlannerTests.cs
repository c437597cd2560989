using System.Text.Json;

namespace Fathom.Planner.Tests.Planning;

public sealed class PlannerTests
{
    private static readonly HardwarePlanner Planner = new();

    private static PlanResult Plan(string weights, string gpu = "h100-sxm", int concurrency = 1, int context = 8192) =>
        Planner.Plan(new PlanRequest { Model = "deepseek-r1-distill-llama-70b", Weights = weights, Gpu = gpu, Concurrency = concurrency, Context = context });

    [Fact]
    public void BF16_70B_needs_two_H100_not_eight()
    {
        var plan = Plan("bf16");
        Assert.Equal(2, plan.MinGpus);
        var tp1 = plan.Layouts.Single(l => l.Tp == 1);
        Assert.False(tp1.Fits);
        Assert.Equal(141_107_412_992 / 2, plan.Layouts.Single(l => l.Tp == 2).MemoryPerGpu.Weights);
    }

    [Theory]
    [InlineData("q4_k_m")]
    [InlineData("gptq-4bit")]
    [InlineData("awq-4bit")]
    [InlineData("int8")]
    [InlineData("fp8")]
    public void Four_and_eight_bit_70B_fit_one_80GB_GPU(string weights) => Assert.Equal(1, Plan(weights).MinGpus);

    [Fact]
    public void Memory_per_GPU_adds_up_and_the_KV_left_holds_the_reported_sequences()
    {
        var plan = Plan("fp8", concurrency: 16);
        foreach (var layout in plan.Layouts.Where(l => l.Fits))
        {
            var m = layout.MemoryPerGpu;
            Assert.Equal(m.Total, m.Weights + m.EngineReserve + m.Activations + m.KvCache);
            var perSequence = (1024 + 512) * m.KvBytesPerToken;
            Assert.True(layout.MaxConcurrentSequences * perSequence <= m.KvCache);
            Assert.True((layout.MaxConcurrentSequences + 1) * perSequence > m.KvCache);
            Assert.Equal(327_680 / layout.Tp, m.KvBytesPerToken); // f16 KV, 8 KV heads split over TP <= 8
        }
    }

    [Fact]
    public void Paged_capacity_counts_expected_length_so_it_exceeds_full_context_capacity()
    {
        var layout = Plan("bf16", context: 32768).Recommended;
        Assert.True(layout.MaxConcurrentSequences > layout.MaxSequencesAtFullContext * 10);
    }

    [Fact]
    public void More_tensor_parallelism_is_faster_per_user_but_not_linearly()
    {
        var plan = Plan("bf16");
        var tp2 = plan.Layouts.Single(l => l.Tp == 2).DecodeTokSPerUser;
        var tp8 = plan.Layouts.Single(l => l.Tp == 8).DecodeTokSPerUser;
        Assert.True(tp8 > 2 * tp2);
        Assert.True(tp8 < 4 * tp2); // all-reduce latency keeps it below linear
    }

    [Fact]
    public void Batching_multiplies_aggregate_throughput_far_more_than_it_slows_each_user()
    {
        var one = Planner.Plan(new PlanRequest { Model = "deepseek-r1-distill-llama-70b", Weights = "bf16", Gpu = "h100-sxm", Tp = 8 });
        var eight = Planner.Plan(new PlanRequest { Model = "deepseek-r1-distill-llama-70b", Weights = "bf16", Gpu = "h100-sxm", Tp = 8, Concurrency = 8 });
        Assert.InRange(eight.DecodeTokSPerUser / one.DecodeTokSPerUser, 0.7, 1.0);
        Assert.True(eight.AggregateTokS > 5 * one.AggregateTokS);
    }

    [Fact]
    public void A_forced_TP_that_does_not_split_the_heads_is_refused_with_the_valid_sizes()
    {
        var e = Assert.Throws<PlannerInputException>(() => Planner.Plan(new PlanRequest { Model = "deepseek-r1-distill-llama-70b", Gpu = "h100-sxm", Tp = 6 }));
        Assert.Contains("TP=6", e.Message);
        Assert.Contains("1, 2, 4, 8", e.Message);
    }

    [Fact]
    public void BF16_70B_needs_a_full_node_of_24GB_GPUs()
    {
        var plan = Plan("bf16", gpu: "rtx-4090");
        Assert.Equal(8, plan.MinGpus);
        Assert.False(plan.Layouts.Single(l => l.Tp == 4).Fits);
    }

    [Fact]
    public void The_minimum_per_GPU_type_agrees_with_planning_for_that_GPU()
    {
        var byGpu = Plan("bf16").MinGpusByGpu;
        Assert.Equal(HardwarePlannerCatalogIds(), byGpu.Keys.Order());
        foreach (var (gpu, min) in byGpu)
        {
            Assert.Equal(Plan("bf16", gpu: gpu).MinGpus, min);
        }

        Assert.Equal(1, byGpu["mi300x"]);
        Assert.Equal(4, byGpu["a100-40"]);
    }

    private static IEnumerable<string> HardwarePlannerCatalogIds() => Fathom.Planner.Hardware.HardwareCatalog.Default.Gpus.Select(g => g.Id).Order();

    [Fact]
    public void Pipeline_stages_halve_the_weights_per_GPU_but_do_not_speed_up_one_user()
    {
        PlanResult Forced(int pp) => Planner.Plan(new PlanRequest { Model = "deepseek-r1-distill-llama-70b", Gpu = "rtx-4090", Tp = 8, Pp = pp });
        var one = Forced(1).Recommended;
        var two = Forced(2).Recommended;
        Assert.Equal(16, two.Gpus);
        Assert.InRange((double)two.MemoryPerGpu.Weights / one.MemoryPerGpu.Weights, 0.5, 0.52);
        Assert.True(two.DecodeTokSPerUser <= one.DecodeTokSPerUser);
    }

    [Fact]
    public void Costs_use_instances_with_the_planned_GPU_and_the_cheapest_sets_the_headline()
    {
        var plan = Plan("bf16", concurrency: 32);
        Assert.NotEmpty(plan.Instances);
        Assert.All(plan.Instances, i => Assert.Equal(8, i.GpusPerInstance));
        var priced = plan.Instances.Where(i => i.CostPerMillionOutputTokens is not null).ToList();
        Assert.Equal(priced.Min(i => i.CostPerMillionOutputTokens), plan.CostPerMillionOutputTokens);
        var p5 = plan.Instances.Single(i => i.Instance == "aws-p5.48xlarge");
        Assert.Equal(8 / plan.Recommended.Gpus, p5.Replicas);
        Assert.Equal(p5.PricePerHour!.Value / (p5.AggregateTokS * 3600) * 1e6, p5.CostPerMillionOutputTokens!.Value, 9);

        // The H20 instance has no verified price: no cost rather than an invented one.
        Assert.Null(Plan("bf16", gpu: "h20").CostPerMillionOutputTokens);
    }

    [Fact]
    public void Fine_tuning_70B_full_needs_nodes_LoRA_a_few_GPUs_and_QLoRA_one()
    {
        var ft = Plan("bf16").FineTuning.ToDictionary(f => f.Method);
        Assert.Equal(16L * 70_553_706_496, ft["full-adamw-zero3"].BytesTotal);
        Assert.True(ft["full-adamw-zero3"].Gpus >= 16);
        Assert.InRange(ft["lora"].Gpus!.Value, 2, 8);
        Assert.Equal(1, ft["qlora"].Gpus);
        Assert.All(ft.Values, f => Assert.True(f.BytesPerGpu <= 81559L * 1024 * 1024));
    }

    [Fact]
    public void The_JSON_contract_has_every_field_scripts_rely_on()
    {
        var json = JsonSerializer.Serialize(Plan("fp8", concurrency: 8), PlanJson.Options);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        foreach (var field in new[] { "weights_bytes", "kv_bytes_per_token", "min_gpus", "max_concurrent_sequences", "decode_tok_s_per_user", "aggregate_tok_s", "ttft_s", "cost_per_million_output_tokens" })
        {
            Assert.True(root.TryGetProperty(field, out var value), field);
            Assert.Equal(JsonValueKind.Number, value.ValueKind);
        }

        Assert.Equal(JsonValueKind.Array, root.GetProperty("valid_tp").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("assumptions").ValueKind);
        Assert.True(root.GetProperty("assumptions").GetArrayLength() > 5);
        Assert.Equal(327_680, root.GetProperty("kv_bytes_per_token").GetInt64());
    }

    [Theory]
    [InlineData("nope", "h100-sxm", "bf16", "unknown model 'nope'")]
    [InlineData("llama-3.1-8b", "tpu-v9", "bf16", "unknown GPU 'tpu-v9'")]
    [InlineData("llama-3.1-8b", "h100-sxm", "int2", "unknown weight format 'int2'")]
    public void Unknown_inputs_fail_with_one_clear_line(string model, string gpu, string weights, string expected)
    {
        var e = Assert.Throws<PlannerInputException>(() => Planner.Plan(new PlanRequest { Model = model, Gpu = gpu, Weights = weights }));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
