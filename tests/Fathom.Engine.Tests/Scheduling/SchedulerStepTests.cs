using Fathom.Engine.KvCache;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>How one <see cref="Scheduler.Schedule"/> composes a step, driven by hand.</summary>
public sealed class SchedulerStepTests
{
    private static Scheduler NewScheduler(SchedulerConfig config, int blocks = 64, int blockSize = 4) =>
        new(config, new KvCacheManager(new KvBlockPool(blocks, blockSize), ModelFingerprint.Of("m")));

    private static EngineRequest Request(string id, int promptLength, int maxTokens = 100, int priority = 0, int salt = 0) =>
        EngineHarness.Greedy(id, EngineHarness.Prompt(salt + id[0], promptLength), maxTokens, priority);

    private static string Composition(SchedulerOutput output) =>
        string.Join(" ", output.Sequences.Select(s => $"{s.Sequence.RequestId}:{s.NumTokens}"));

    // Samples token 1 for every sequence that needs a sample.
    private static void Advance(Scheduler scheduler, SchedulerOutput output) =>
        scheduler.Update(output, output.Sequences.Where(s => s.SampleCount > 0)
            .ToDictionary(s => s.Sequence.Id, s => (IReadOnlyList<int>)[.. Enumerable.Repeat(1, s.SampleCount)]));

    [Fact]
    public void Decodes_go_first_and_a_long_prompt_is_chunked_under_the_token_budget()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxNumBatchedTokens = 16 });
        scheduler.AddRequest(Request("A", 5));
        var step = scheduler.Schedule();
        Assert.Equal("A:5", Composition(step));
        Advance(scheduler, step);

        scheduler.AddRequest(Request("B", 40));
        var trace = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            step = scheduler.Schedule();
            trace.Add(Composition(step));
            var b = step.Sequences.Single(s => s.Sequence.RequestId == "B");
            Assert.Equal(15 * i, b.StartPosition);
            Assert.Equal(i == 2 ? 1 : 0, b.SampleCount);
            Assert.True(step.NumScheduledTokens <= 16);
            Advance(scheduler, step);
        }

        Assert.Equal(["A:1 B:15", "A:1 B:15", "A:1 B:10"], trace);
        step = scheduler.Schedule();
        Assert.Equal("A:1 B:1", Composition(step));
        Assert.Equal([0, 1], step.LogitsIndices);
        Assert.Equal([0, 1], step.SequenceIndices);
    }

    [Fact]
    public void A_running_prefill_continues_before_new_requests_are_admitted()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxNumBatchedTokens = 16 });
        scheduler.AddRequest(Request("A", 40));
        var step = scheduler.Schedule();
        Advance(scheduler, step);
        scheduler.AddRequest(Request("B", 3));
        var trace = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            step = scheduler.Schedule();
            trace.Add(Composition(step));
            Advance(scheduler, step);
        }

        Assert.Equal(["A:16", "A:8 B:3", "A:1 B:1"], trace);
    }

    [Fact]
    public void New_requests_are_admitted_first_come_first_served_with_the_last_one_chunked()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxNumBatchedTokens = 25 });
        foreach (string id in new[] { "A", "B", "C", "D" })
        {
            scheduler.AddRequest(Request(id, 10));
        }

        var step = scheduler.Schedule();
        Assert.Equal("A:10 B:10 C:5", Composition(step));
        Assert.Equal(["D"], scheduler.Waiting.Select(s => s.RequestId));
        Advance(scheduler, step);
        Assert.Equal("A:1 B:1 C:5 D:10", Composition(scheduler.Schedule()));
    }

    [Fact]
    public void Under_the_priority_policy_lower_values_go_first_and_ties_keep_arrival_order()
    {
        var scheduler = NewScheduler(new SchedulerConfig { Policy = SchedulingPolicy.Priority });
        scheduler.AddRequest(Request("A", 4, priority: 2));
        scheduler.AddRequest(Request("B", 4, priority: 0));
        scheduler.AddRequest(Request("C", 4, priority: 1));
        scheduler.AddRequest(Request("D", 4, priority: 0));
        Assert.Equal("B:4 D:4 C:4 A:4", Composition(scheduler.Schedule()));
    }

    [Fact]
    public void Priorities_are_ignored_under_first_come_first_served()
    {
        var scheduler = NewScheduler(new SchedulerConfig());
        scheduler.AddRequest(Request("A", 4, priority: 2));
        scheduler.AddRequest(Request("B", 4, priority: 0));
        Assert.Equal("A:4 B:4", Composition(scheduler.Schedule()));
    }

    [Fact]
    public void No_more_than_the_maximum_number_of_sequences_run()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxNumSequences = 2 });
        scheduler.AddRequest(Request("A", 4));
        scheduler.AddRequest(Request("B", 4));
        scheduler.AddRequest(Request("C", 4));
        Assert.Equal("A:4 B:4", Composition(scheduler.Schedule()));
        Assert.Equal(1, scheduler.NumWaiting);
    }

    [Fact]
    public void Without_chunked_prefill_a_prompt_waits_until_it_fits_whole()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxNumBatchedTokens = 16, EnableChunkedPrefill = false });
        scheduler.AddRequest(Request("A", 10));
        scheduler.AddRequest(Request("B", 10));
        Assert.Equal("A:10", Composition(scheduler.Schedule()));
    }

    [Fact]
    public void The_flat_batch_lists_tokens_positions_and_block_tables()
    {
        var scheduler = NewScheduler(new SchedulerConfig(), blockSize: 4);
        var prompt = EngineHarness.Prompt(1, 6);
        scheduler.AddRequest(EngineHarness.Greedy("A", prompt, 5));
        var step = scheduler.Schedule();
        Assert.Equal(prompt, step.TokenIds);
        Assert.Equal([0, 1, 2, 3, 4, 5], step.Positions);
        Assert.Equal([5], step.LogitsIndices);
        Assert.Equal(2, step.Sequences[0].BlockTable.Count);
        scheduler.Update(step, new Dictionary<long, IReadOnlyList<int>> { [step.Sequences[0].Sequence.Id] = [9] });
        step = scheduler.Schedule();
        Assert.Equal([9], step.TokenIds);
        Assert.Equal([6], step.Positions);
    }

    [Fact]
    public void Update_insists_on_the_sampled_tokens_it_needs()
    {
        var scheduler = NewScheduler(new SchedulerConfig());
        scheduler.AddRequest(Request("A", 4));
        var step = scheduler.Schedule();
        Assert.Throws<ArgumentException>(() => scheduler.Update(step, new Dictionary<long, IReadOnlyList<int>>()));
    }

    [Fact]
    public void Requests_that_can_never_be_served_are_rejected_with_the_field_at_fault()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxModelLength = 32 });
        Assert.Equal("max_tokens", Assert.Throws<RequestRejectedException>(() => scheduler.AddRequest(Request("A", 30, maxTokens: 5))).ParamName);
        Assert.Equal("prompt", Assert.Throws<RequestRejectedException>(() => scheduler.AddRequest(EngineHarness.Greedy("B", [], 5))).ParamName);
        Assert.Equal("prompt", Assert.Throws<RequestRejectedException>(() => scheduler.AddRequest(Request("C", 32, maxTokens: 1))).ParamName);
        Assert.Equal("top_p", Assert.Throws<InvalidSamplingParameterException>(
            () => scheduler.AddRequest(new EngineRequest("D", [1], new SamplingParams { TopP = 2 }))).ParamName);
        var fewSequences = NewScheduler(new SchedulerConfig { MaxNumSequences = 2 });
        Assert.Equal("n", Assert.Throws<RequestRejectedException>(
            () => fewSequences.AddRequest(new EngineRequest("F", [1], new SamplingParams { N = 3 }))).ParamName);
        // 64 blocks of 4 tokens hold 256: n × max_tokens beside the prompt must fit.
        var pool = NewScheduler(new SchedulerConfig());
        Assert.Equal("n", Assert.Throws<RequestRejectedException>(
            () => pool.AddRequest(new EngineRequest("G", EngineHarness.Prompt('G', 10), new SamplingParams { N = 3, MaxTokens = 83 }))).ParamName);
        pool.AddRequest(new EngineRequest("H", EngineHarness.Prompt('H', 10), new SamplingParams { N = 3, MaxTokens = 82 }));
        scheduler.AddRequest(Request("E", 4, maxTokens: 5));
        Assert.Equal("request_id", Assert.Throws<RequestRejectedException>(() => scheduler.AddRequest(Request("E", 4, maxTokens: 5))).ParamName);
    }

    [Fact]
    public void A_learned_budget_with_a_small_target_chunks_a_long_prompt_while_decodes_run_every_step()
    {
        // A backend where every token of a step costs 10 ms: a 100 ms target leaves room for 10 tokens.
        var scheduler = NewScheduler(new SchedulerConfig { StepTimeTarget = TimeSpan.FromMilliseconds(100) }, blockSize: 4);
        void Run(SchedulerOutput output)
        {
            scheduler.StepBudget.Observe(output.NumScheduledTokens, TimeSpan.FromMilliseconds(10 * output.NumScheduledTokens));
            Advance(scheduler, output);
        }

        scheduler.AddRequest(Request("A", 5));
        scheduler.AddRequest(Request("B", 6));
        var step = scheduler.Schedule();
        Assert.Equal(StepTokenBudget.MaximumTokens, scheduler.LastTokenBudget); // nothing decodes yet
        Assert.Equal("A:5 B:6", Composition(step));
        Run(step);

        var prompt = EngineHarness.Prompt('C', 40);
        scheduler.AddRequest(EngineHarness.Greedy("C", prompt, 100));
        var trace = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            step = scheduler.Schedule();
            Assert.Equal(10, scheduler.LastTokenBudget);
            trace.Add(Composition(step));
            var c = step.Sequences.Single(s => s.Sequence.RequestId == "C");
            Assert.Equal(8 * i, c.StartPosition);
            Assert.Equal(i == 4 ? 1 : 0, c.SampleCount);
            Assert.Equal((8 * (i + 1)) / 4, c.BlockTable.Count);
            Run(step);
        }

        Assert.Equal(Enumerable.Repeat("A:1 B:1 C:8", 5), trace);

        // The chunks' full blocks went into the prefix cache: the same prompt again is served from it but for its last block.
        scheduler.AddRequest(EngineHarness.Greedy("D", prompt, 100));
        step = scheduler.Schedule();
        Assert.Equal("A:1 B:1 C:1 D:4", Composition(step));
        var d = step.Sequences.Single(s => s.Sequence.RequestId == "D");
        Assert.Equal(36, d.NumCachedTokens);
        Assert.Equal(BlocksOf(step, "C").Take(9), d.BlockTable.Take(9));
        Run(step);

        foreach (string id in new[] { "A", "B", "C", "D" })
        {
            scheduler.Abort(id);
        }

        Assert.Equal(0, scheduler.KvCache.Pool.UsedBlockCount);

        static IEnumerable<int> BlocksOf(SchedulerOutput output, string id) => output.Sequences.Single(s => s.Sequence.RequestId == id).BlockTable;
    }

    [Fact]
    public void A_fixed_token_budget_overrides_the_learned_one()
    {
        var scheduler = NewScheduler(new SchedulerConfig { MaxNumBatchedTokens = 12, StepTimeTarget = TimeSpan.FromMilliseconds(1) });
        scheduler.AddRequest(Request("A", 40));
        scheduler.StepBudget.Observe(40, TimeSpan.FromSeconds(40));
        Assert.Equal("A:12", Composition(scheduler.Schedule()));
        Assert.Equal(12, scheduler.LastTokenBudget);
    }

    [Fact]
    public void A_learned_budget_below_the_running_decodes_still_serves_every_decode_and_a_token_of_prefill()
    {
        var scheduler = NewScheduler(new SchedulerConfig { StepTimeTarget = TimeSpan.FromMilliseconds(1) }, blockSize: 4);
        foreach (string id in new[] { "A", "B", "C" })
        {
            scheduler.AddRequest(Request(id, 3));
        }

        Advance(scheduler, scheduler.Schedule());
        scheduler.StepBudget.Observe(9, TimeSpan.FromSeconds(1)); // far slower than the 1 ms target: the minimum budget
        scheduler.AddRequest(Request("D", 40));
        var step = scheduler.Schedule();
        Assert.Equal("A:1 B:1 C:1 D:1", Composition(step));
        Assert.Equal(4, scheduler.LastTokenBudget);
    }

    [Fact]
    public void Prompts_arriving_together_with_nothing_decoding_are_prefilled_in_one_step()
    {
        var scheduler = NewScheduler(new SchedulerConfig(), blocks: 512, blockSize: 16);
        for (int i = 0; i < 8; i++)
        {
            scheduler.AddRequest(Request($"{(char)('A' + i)}", 128, maxTokens: 64));
        }

        var step = scheduler.Schedule();
        Assert.Equal(8 * 128, step.NumScheduledTokens);
        Assert.Equal(8, step.Sequences.Count(s => s.SampleCount == 1));
    }

    [Fact]
    public void With_decodes_running_the_automatic_budget_caps_each_prefill_chunk_at_twice_a_decode_step()
    {
        // A CPU-like backend: 20 ms a step to stream the weights plus 5 ms a token. Each step is "run" at that cost.
        static TimeSpan Cost(int tokens) => TimeSpan.FromSeconds(0.020 + (0.005 * tokens));
        var scheduler = NewScheduler(new SchedulerConfig(), blocks: 512, blockSize: 16);
        void Run(SchedulerOutput output)
        {
            scheduler.StepBudget.Observe(output.NumScheduledTokens, Cost(output.NumScheduledTokens));
            Advance(scheduler, output);
        }

        // Four sequences decoding, after steps of a few sizes taught the budget the cost.
        foreach (string id in new[] { "A", "B", "C", "D" })
        {
            scheduler.AddRequest(Request(id, 3, maxTokens: 500));
            Run(scheduler.Schedule());
        }

        for (int i = 0; i < 4; i++)
        {
            Run(scheduler.Schedule());
        }

        // A long prompt arrives: it is chunked, every step keeps the four decodes and stays within 2 × 40 ms.
        scheduler.AddRequest(Request("E", 600, maxTokens: 500));
        int prefilled = 0;
        int steps = 0;
        while (prefilled < 600)
        {
            var step = scheduler.Schedule();
            var decodes = step.Sequences.Where(s => s.Sequence.RequestId != "E").ToList();
            Assert.Equal(4, decodes.Count);
            Assert.All(decodes, d => Assert.Equal(1, d.NumTokens));
            int chunk = step.Sequences.Single(s => s.Sequence.RequestId == "E").NumTokens;
            Assert.True(chunk >= 1, "the prompt did not advance");
            Assert.True(step.NumScheduledTokens <= scheduler.LastTokenBudget);
            double decodeOnly = Cost(4).TotalSeconds;
            Assert.True(Cost(step.NumScheduledTokens).TotalSeconds <= (2 * decodeOnly) + 1e-9,
                $"step {steps}: {step.NumScheduledTokens} tokens take {Cost(step.NumScheduledTokens).TotalMilliseconds} ms, over twice the {decodeOnly * 1000} ms decode step");
            prefilled += chunk;
            steps++;
            Run(step);
        }

        // 80 ms - 20 ms leaves 12 tokens a step: the 4 decodes and 8 of the prompt, once the fit has settled.
        Assert.InRange(steps, 600 / 8, (600 / 8) + 10);
    }
}
