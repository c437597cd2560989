using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>The whole loop (schedule → fake forward → sample → update), checked against decoding the fake model directly.</summary>
public sealed class EngineCoreTests
{
    private const int Vocab = EngineHarness.Vocab;

    private static List<int> Reference(IReadOnlyList<int> prompt, int maxTokens) => FakeModelRunner.GreedyReference(prompt, maxTokens, Vocab);

    [Fact]
    public void Greedy_outputs_match_direct_decoding_and_all_blocks_come_back()
    {
        var harness = new EngineHarness(totalBlocks: 64);
        var prompts = new Dictionary<string, int[]> { ["A"] = EngineHarness.Prompt(1, 3), ["B"] = EngineHarness.Prompt(2, 17), ["C"] = EngineHarness.Prompt(3, 9) };
        foreach (var (id, prompt) in prompts)
        {
            harness.Core.AddRequest(EngineHarness.Greedy(id, prompt, 12));
        }

        harness.RunToCompletion();
        foreach (var (id, prompt) in prompts)
        {
            Assert.Equal(Reference(prompt, 12), harness.Outputs[(id, 0)]);
            Assert.Equal(FinishReason.Length, harness.Finished[(id, 0)]);
        }

        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void Preemption_recomputes_the_latest_arrival_and_its_output_is_unchanged()
    {
        // 8 blocks of 4 tokens; A and B each grow to 5 blocks, so B (the later arrival) must give way.
        var harness = new EngineHarness(totalBlocks: 8, config: new SchedulerConfig { MaxNumSequences = 2 });
        int[] a = EngineHarness.Prompt(1, 8), b = EngineHarness.Prompt(2, 8), c = EngineHarness.Prompt(3, 4);
        harness.Core.AddRequest(EngineHarness.Greedy("A", a, 12));
        harness.Core.AddRequest(EngineHarness.Greedy("B", b, 12));
        harness.Core.AddRequest(EngineHarness.Greedy("C", c, 4));

        bool sawPreemption = false;
        for (int step = 0; step < 1000 && harness.Core.HasUnfinishedRequests; step++)
        {
            harness.Collect(harness.Core.Step());
            var last = harness.Runner.Steps[^1];
            if (last.PreemptedSequenceIds.Count > 0 && !sawPreemption)
            {
                sawPreemption = true;
                Assert.All(last.PreemptedSequenceIds, id => Assert.Equal(1, id)); // B's sequence
                Assert.Equal("B", harness.Scheduler.Waiting.First().RequestId); // back at the front, ahead of C
                Assert.DoesNotContain(last.Sequences, s => s.Sequence.RequestId == "B");
            }
        }

        Assert.True(sawPreemption);
        Assert.True(harness.Scheduler.NumPreemptions > 0);
        Assert.Equal(Reference(a, 12), harness.Outputs[("A", 0)]);
        Assert.Equal(Reference(b, 12), harness.Outputs[("B", 0)]);
        Assert.Equal(Reference(c, 4), harness.Outputs[("C", 0)]);
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void A_repeated_prompt_hits_the_prefix_cache_and_computes_only_the_rest()
    {
        var harness = new EngineHarness(totalBlocks: 32);
        int[] prompt = EngineHarness.Prompt(5, 18);
        harness.Core.AddRequest(EngineHarness.Greedy("first", prompt, 6));
        harness.RunToCompletion();
        int stepsBefore = harness.Runner.Steps.Count;

        harness.Core.AddRequest(EngineHarness.Greedy("second", prompt, 6));
        harness.RunToCompletion();
        var admission = harness.Runner.Steps[stepsBefore].Sequences.Single();
        Assert.Equal(16, admission.NumCachedTokens);
        Assert.Equal(2, admission.NumTokens);
        Assert.Equal(16, admission.Sequence.CachedPromptTokens);
        Assert.Equal(harness.Outputs[("first", 0)], harness.Outputs[("second", 0)]);
        Assert.Equal(Reference(prompt, 6), harness.Outputs[("second", 0)]);
        Assert.Equal((36L, 16L), (harness.Kv.PrefixQueryTokens, harness.Kv.PrefixHitTokens));
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void Least_recently_used_cached_prefixes_are_evicted_first()
    {
        // 6 blocks: each request leaves 2 full prompt blocks cached. The third request needs one block more than
        // is plainly free, so it evicts the least recently used cached block: the first request's deeper block.
        var harness = new EngineHarness(totalBlocks: 6);
        int[] p1 = EngineHarness.Prompt(1, 9), p2 = EngineHarness.Prompt(2, 9), p3 = EngineHarness.Prompt(3, 9);
        foreach (var (id, prompt) in new[] { ("r1", p1), ("r2", p2), ("r3", p3) })
        {
            harness.Core.AddRequest(EngineHarness.Greedy(id, prompt, 1));
            harness.RunToCompletion();
        }

        Assert.Equal(1, harness.Pool.EvictionCount);
        Assert.Equal(4, harness.Kv.FindCachedPrefix(p1, []).NumTokens);
        Assert.Equal(8, harness.Kv.FindCachedPrefix(p2, []).NumTokens);
        Assert.Equal(8, harness.Kv.FindCachedPrefix(p3, []).NumTokens);
    }

    [Fact]
    public void Abort_frees_the_blocks_of_running_and_waiting_requests_at_once()
    {
        var harness = new EngineHarness(totalBlocks: 32, config: new SchedulerConfig { MaxNumSequences = 1 });
        harness.Core.AddRequest(EngineHarness.Greedy("A", EngineHarness.Prompt(1, 10), 50));
        harness.Core.AddRequest(EngineHarness.Greedy("B", EngineHarness.Prompt(2, 10), 50));
        for (int i = 0; i < 3; i++)
        {
            harness.Collect(harness.Core.Step());
        }

        Assert.True(harness.Pool.UsedBlockCount > 0);
        Assert.True(harness.Scheduler.Abort("A"));
        Assert.True(harness.Scheduler.Abort("B"));
        Assert.False(harness.Scheduler.Abort("A"));
        Assert.False(harness.Core.HasUnfinishedRequests);
        harness.AssertAllBlocksReturned();
        Assert.Equal(3, harness.Outputs[("A", 0)].Count);
    }

    [Fact]
    public void Abort_through_the_core_takes_effect_on_the_next_step()
    {
        var harness = new EngineHarness(totalBlocks: 32);
        harness.Core.AddRequest(EngineHarness.Greedy("A", EngineHarness.Prompt(1, 10), 50));
        harness.Collect(harness.Core.Step());
        harness.Core.Abort("A");
        Assert.Empty(harness.Core.Step());
        Assert.False(harness.Core.HasUnfinishedRequests);
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void N_completions_fork_the_prompt_and_copy_the_shared_partial_block_on_write()
    {
        var harness = new EngineHarness(totalBlocks: 32);
        int[] prompt = EngineHarness.Prompt(4, 6);
        harness.Core.AddRequest(new EngineRequest("n3", prompt, new SamplingParams { Temperature = 0, MaxTokens = 5, N = 3 }));
        harness.RunToCompletion();
        Assert.Equal(6, harness.Runner.Steps[0].Sequences.Single().NumTokens);
        Assert.Equal(3, harness.Runner.Steps[0].Sequences.Single().SampleCount);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Reference(prompt, 5), harness.Outputs[("n3", i)]);
        }

        Assert.Equal(2, harness.Runner.CopiesPerformed); // the first two writers copy; the last owns the block
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void Seeded_sampling_is_reproducible_whatever_else_is_in_the_batch()
    {
        var request = new EngineRequest("seeded", EngineHarness.Prompt(7, 11), new SamplingParams { Temperature = 1f, Seed = 1234, MaxTokens = 20, N = 2 });

        var solo = new EngineHarness(totalBlocks: 64);
        solo.Core.AddRequest(request);
        solo.RunToCompletion();

        var crowded = new EngineHarness(totalBlocks: 24, config: new SchedulerConfig { MaxNumBatchedTokens = 8 });
        for (int i = 0; i < 4; i++)
        {
            crowded.Core.AddRequest(new EngineRequest($"other{i}", EngineHarness.Prompt(i, 5 + i), new SamplingParams { Temperature = 1f, MaxTokens = 15 }));
        }

        crowded.Core.AddRequest(request);
        crowded.RunToCompletion();

        Assert.Equal(solo.Outputs[("seeded", 0)], crowded.Outputs[("seeded", 0)]);
        Assert.Equal(solo.Outputs[("seeded", 1)], crowded.Outputs[("seeded", 1)]);
        Assert.NotEqual(solo.Outputs[("seeded", 0)], solo.Outputs[("seeded", 1)]);
        crowded.AssertAllBlocksReturned();
    }

    [Fact]
    public void End_of_generation_ids_stop_unless_ignore_eos_and_max_tokens_gives_length()
    {
        int[] prompt = EngineHarness.Prompt(9, 5);
        var expected = Reference(prompt, 8);
        int eog = expected[3];
        int firstEog = expected.IndexOf(eog);
        var config = new SchedulerConfig { EndOfGenerationTokenIds = [eog] };

        var stops = new EngineHarness(totalBlocks: 16, config: config);
        stops.Core.AddRequest(EngineHarness.Greedy("A", prompt, 8));
        stops.RunToCompletion();
        Assert.Equal(expected.Take(firstEog + 1), stops.Outputs[("A", 0)]);
        Assert.Equal(FinishReason.Stop, stops.Finished[("A", 0)]);

        var ignores = new EngineHarness(totalBlocks: 16, config: config);
        ignores.Core.AddRequest(new EngineRequest("A", prompt, new SamplingParams { Temperature = 0, MaxTokens = 8, IgnoreEos = true }));
        ignores.RunToCompletion();
        Assert.Equal(expected, ignores.Outputs[("A", 0)]);
        Assert.Equal(FinishReason.Length, ignores.Finished[("A", 0)]);

        var stopIds = new EngineHarness(totalBlocks: 16);
        stopIds.Core.AddRequest(new EngineRequest("A", prompt, new SamplingParams { Temperature = 0, MaxTokens = 8, StopTokenIds = [expected[1]] }));
        stopIds.RunToCompletion();
        Assert.Equal(expected.Take(expected.IndexOf(expected[1]) + 1), stopIds.Outputs[("A", 0)]);
        stopIds.AssertAllBlocksReturned();
    }

    [Fact]
    public void A_sequence_finished_between_steps_ends_with_reason_stop_and_returns_its_blocks()
    {
        var harness = new EngineHarness(totalBlocks: 16, stopBetweenSteps: s => s.NumOutputTokens >= 2);
        harness.Core.AddRequest(EngineHarness.Greedy("A", EngineHarness.Prompt(1, 5), 10));
        harness.RunToCompletion();
        Assert.Equal(2, harness.Outputs[("A", 0)].Count);
        Assert.Equal(FinishReason.Stop, harness.Finished[("A", 0)]);
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void The_same_arrivals_give_the_same_schedule_and_outputs_match_direct_decoding_under_pressure()
    {
        var (trace1, outputs1, prompts) = RunScript();
        var (trace2, outputs2, _) = RunScript();
        Assert.Equal(trace1, trace2);
        Assert.Equal(outputs1.Count, prompts.Count);
        foreach (var (id, (prompt, maxTokens)) in prompts)
        {
            Assert.Equal(Reference(prompt, maxTokens), outputs1[(id, 0)]);
        }

        Assert.Equal(outputs1.Keys.Order(), outputs2.Keys.Order());
    }

    // 24 requests sharing a system prefix, arriving over time into a small pool with a small token budget.
    private static (List<string> Trace, Dictionary<(string, int), List<int>> Outputs, Dictionary<string, (int[] Prompt, int MaxTokens)> Prompts) RunScript()
    {
        var harness = new EngineHarness(totalBlocks: 20, config: new SchedulerConfig { MaxNumBatchedTokens = 12, MaxNumSequences = 6 });
        var random = new Random(2024);
        int[] system = EngineHarness.Prompt(42, 9);
        var prompts = new Dictionary<string, (int[], int)>();
        var trace = new List<string>();
        int next = 0;
        for (int step = 0; step < 5000 && (next < 24 || harness.Core.HasUnfinishedRequests); step++)
        {
            if (next < 24 && random.Next(3) == 0)
            {
                string id = $"r{next++}";
                int[] prompt = [.. system, .. EngineHarness.Prompt(next, random.Next(1, 14))];
                int maxTokens = random.Next(1, 16);
                prompts[id] = (prompt, maxTokens);
                harness.Core.AddRequest(EngineHarness.Greedy(id, prompt, maxTokens));
            }

            int before = harness.Runner.Steps.Count;
            harness.Collect(harness.Core.Step());
            if (harness.Runner.Steps.Count > before)
            {
                var s = harness.Runner.Steps[^1];
                trace.Add(string.Join(",", s.Sequences.Select(x => $"{x.Sequence.Id}:{x.NumTokens}/{x.NumCachedTokens}"))
                    + (s.PreemptedSequenceIds.Count > 0 ? $" preempt {string.Join(",", s.PreemptedSequenceIds)}" : ""));
            }
        }

        Assert.Contains(trace, t => t.Contains("preempt", StringComparison.Ordinal));
        Assert.True(harness.Kv.PrefixHitTokens > 0);
        harness.AssertAllBlocksReturned();
        return (trace, harness.Outputs, prompts);
    }
}
