using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>Constrained sequences through the whole loop: masks per sequence, advanced per token, finishing when complete.</summary>
public sealed class EngineCoreConstraintTests
{
    private const int Vocab = EngineHarness.Vocab;

    /// <summary>
    /// A rule over token ids: each token must be in its position's allowed set; complete after the last position.
    /// Records on which thread masks were computed.
    /// </summary>
    private sealed class ScriptConstraint(IReadOnlyList<int[]> positions) : ITokenConstraint
    {
        private int _position;

        public List<int> MaskThreads { get; } = [];

        public List<int> Accepted { get; } = [];

        public bool IsComplete => _position == positions.Count;

        public void FillAllowedTokens(Span<ulong> allowed)
        {
            lock (MaskThreads)
            {
                MaskThreads.Add(Environment.CurrentManagedThreadId);
            }

            foreach (int token in positions[_position])
            {
                TokenMask.Allow(allowed, token);
            }
        }

        public bool Accept(int tokenId)
        {
            if (IsComplete || !positions[_position].Contains(tokenId))
            {
                return false;
            }

            Accepted.Add(tokenId);
            _position++;
            return true;
        }
    }

    private static EngineRequest Request(string id, int seed, SamplingParams sampling, Func<ITokenConstraint>? constraint) =>
        new(id, EngineHarness.Prompt(seed, 6), sampling) { Constraint = constraint };

    [Fact]
    public void Sequences_in_one_batch_follow_their_own_constraints_and_finish_with_stop_when_complete()
    {
        var harness = new EngineHarness(totalBlocks: 64);
        int[][] evens = [[2, 4, 6], [8, 10], [12, 14, 16, 18]];
        int[][] odds = [[1, 3], [5], [7, 9], [11], [13, 15]];
        var made = new List<ScriptConstraint>();
        harness.Core.AddRequest(Request("E", 1, new SamplingParams { Temperature = 0, MaxTokens = 50 }, () => Track(made, new ScriptConstraint(evens))));
        harness.Core.AddRequest(Request("O", 2, new SamplingParams { Temperature = 1, Seed = 3, MaxTokens = 50 }, () => Track(made, new ScriptConstraint(odds))));
        harness.Core.AddRequest(EngineHarness.Greedy("F", EngineHarness.Prompt(3, 6), 8)); // unconstrained, same batch

        harness.RunToCompletion();

        AssertFollows(evens, harness.Outputs[("E", 0)]);
        AssertFollows(odds, harness.Outputs[("O", 0)]);
        Assert.Equal(FinishReason.Stop, harness.Finished[("E", 0)]);
        Assert.Equal(FinishReason.Stop, harness.Finished[("O", 0)]);
        Assert.Equal(FakeModelRunner.GreedyReference(EngineHarness.Prompt(3, 6), 8, Vocab), harness.Outputs[("F", 0)]);
        Assert.Equal(FinishReason.Length, harness.Finished[("F", 0)]);
        Assert.Equal(2, made.Count);
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void Each_of_n_completions_gets_its_own_constraint()
    {
        var harness = new EngineHarness(totalBlocks: 64);
        int[][] script = [[.. Enumerable.Range(20, 30)], [.. Enumerable.Range(20, 30)], [60, 61]];
        var made = new List<ScriptConstraint>();
        harness.Core.AddRequest(Request("N", 4, new SamplingParams { Temperature = 1.5f, Seed = 11, N = 4, MaxTokens = 20 }, () => Track(made, new ScriptConstraint(script))));

        harness.RunToCompletion();

        Assert.Equal(4, made.Count);
        for (int i = 0; i < 4; i++)
        {
            AssertFollows(script, harness.Outputs[("N", i)]);
            Assert.Equal(FinishReason.Stop, harness.Finished[("N", i)]);
        }

        // Each constraint accepted exactly one completion's tokens.
        Assert.Equal(
            Enumerable.Range(0, 4).Select(i => string.Join(",", harness.Outputs[("N", i)])).Order(),
            made.Select(c => string.Join(",", c.Accepted)).Order());
        Assert.True(Enumerable.Range(0, 4).Select(i => string.Join(",", harness.Outputs[("N", i)])).Distinct().Count() > 1,
            "four random completions over a wide rule should not all be the same");
        harness.AssertAllBlocksReturned();
    }

    [Fact]
    public void Masks_are_computed_off_the_loop_thread_during_the_forward_pass_unless_the_overlap_is_off()
    {
        foreach (bool overlap in new[] { true, false })
        {
            var pool = new Fathom.Engine.KvCache.KvBlockPool(32, 4);
            var scheduler = new Scheduler(new SchedulerConfig(), new Fathom.Engine.KvCache.KvCacheManager(pool, Fathom.Engine.KvCache.ModelFingerprint.Of("fake")));
            var core = new EngineCore(scheduler, new SlowRunner(new FakeModelRunner(32, 4, Vocab))) { OverlapConstraintMasks = overlap };
            var constraint = new ScriptConstraint([[1, 2], [3, 4], [5, 6]]);
            core.AddRequest(Request("A", 1, new SamplingParams { Temperature = 0, MaxTokens = 10 }, () => constraint));
            int loop = Environment.CurrentManagedThreadId;
            for (int i = 0; i < 100 && core.HasUnfinishedRequests; i++)
            {
                core.Step();
            }

            Assert.Equal(3, constraint.MaskThreads.Count);
            // With the overlap, a mask whose worker had not started when the forward pass ended is computed inline by
            // the wait (Task.Wait runs an unstarted task on the caller), so only "some" is certain on a loaded machine.
            Assert.Equal(overlap, constraint.MaskThreads.Any(t => t != loop));
        }
    }

    [Fact]
    public void A_constraint_that_fails_fails_its_own_sequence_only()
    {
        var harness = new EngineHarness(totalBlocks: 64);
        harness.Core.AddRequest(Request("bad", 1, new SamplingParams { Temperature = 0, MaxTokens = 10 }, () => new ScriptConstraint([[], [1]])));
        harness.Core.AddRequest(EngineHarness.Greedy("good", EngineHarness.Prompt(2, 6), 5));
        var faults = new List<string>();
        for (int step = 0; step < 100 && harness.Core.HasUnfinishedRequests; step++)
        {
            harness.Collect(harness.Core.Step());
            faults.AddRange(harness.Core.Faults.Select(f => f.Sequence.RequestId));
        }

        Assert.Equal(["bad"], faults);
        Assert.Equal(5, harness.Outputs[("good", 0)].Count);
        harness.AssertAllBlocksReturned();
    }

    /// <summary>A forward pass that takes as long as a small model's, so that the mask worker has time to run beside it.</summary>
    private sealed class SlowRunner(FakeModelRunner inner) : IModelRunner
    {
        public int VocabSize => inner.VocabSize;

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            Thread.Sleep(50);
            inner.Execute(batch, logits);
        }
    }

    private static ScriptConstraint Track(List<ScriptConstraint> made, ScriptConstraint constraint)
    {
        lock (made)
        {
            made.Add(constraint);
        }

        return constraint;
    }

    private static void AssertFollows(int[][] script, List<int> output)
    {
        Assert.Equal(script.Length, output.Count);
        for (int i = 0; i < script.Length; i++)
        {
            Assert.Contains(output[i], script[i]);
        }
    }
}
