using System.Threading.Channels;
using Fathom.Engine.KvCache;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>A fault of one sequence, or of one forward step, fails only the requests it belongs to.</summary>
public sealed class FailureIsolationTests
{
    private const int Blocks = 64;
    private const int BlockSize = 4;
    private const int MaxTokens = 10;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_fault_in_one_sequence_fails_only_its_request(bool whileSampling)
    {
        // Sampling reads only the request's parameters and logits, so its fault is the request's; detokenizing's is the server's.
        var point = whileSampling ? FaultPoint.Sample : FaultPoint.Detokenize;
        bool causedByInput = whileSampling;
        using var setup = new Setup(new EngineHostOptions
        {
            FaultInjector = (sequence, at) =>
            {
                if (at == point && sequence.RequestId.StartsWith("bad", StringComparison.Ordinal) && sequence.NumOutputTokens >= 3)
                {
                    throw new InvalidOperationException("injected");
                }
            },
        });
        var prompts = Enumerable.Range(0, 4).Select(i => EngineHarness.Prompt(i + 1, 6 + i)).ToArray();

        var good = new List<Task<List<int>>>();
        Task<List<int>>? bad = null;
        for (int i = 0; i < prompts.Length; i++)
        {
            var outputs = await setup.Host.SubmitAsync(Greedy(i == 1 ? "bad" : "good", prompts[i]), TestContext.Current.CancellationToken);
            if (i == 1)
            {
                bad = TokensAsync(outputs.Outputs);
            }
            else
            {
                good.Add(TokensAsync(outputs.Outputs));
            }
        }

        var error = await Assert.ThrowsAsync<SequenceFailedException>(() => bad!);
        Assert.Equal(causedByInput, error.CausedByInput);
        var solo = prompts.Where((_, i) => i != 1).Select(p => FakeModelRunner.GreedyReference(p, MaxTokens, EngineHarness.Vocab)).ToList();
        Assert.Equal(solo, await Task.WhenAll(good));
        await WaitForAsync(() => setup.Host.UnfinishedRequests == 0);
        Assert.Equal(0, setup.Pool.UsedBlockCount);
        Assert.True(setup.Host.IsReady);
    }

    [Fact]
    public async Task A_forward_step_that_fails_once_is_run_again_and_nothing_changes()
    {
        using var setup = new Setup(failAtStep: 3, failures: 1);
        var prompts = Enumerable.Range(0, 3).Select(i => EngineHarness.Prompt(i + 7, 5 + (2 * i))).ToArray();

        var runs = new List<Task<List<int>>>();
        foreach (var prompt in prompts)
        {
            runs.Add(TokensAsync((await setup.Host.SubmitAsync(Greedy("r", prompt), TestContext.Current.CancellationToken)).Outputs));
        }

        var solo = prompts.Select(p => FakeModelRunner.GreedyReference(p, MaxTokens, EngineHarness.Vocab)).ToList();
        Assert.Equal(solo, await Task.WhenAll(runs));
        Assert.Equal(1, setup.Runner.Failures);
        Assert.True(setup.Host.IsReady);
        Assert.Null(setup.StepFailure);
    }

    [Fact]
    public async Task A_forward_step_that_fails_twice_fails_its_sequences_not_the_queued_ones()
    {
        // One sequence at a time: the second request waits in the queue while the first one's step fails.
        using var setup = new Setup(failAtStep: 2, failures: 2, config: new SchedulerConfig { MaxNumSequences = 1 });
        int[] first = EngineHarness.Prompt(2, 9);
        int[] queued = EngineHarness.Prompt(5, 7);

        var failed = TokensAsync((await setup.Host.SubmitAsync(Greedy("first", first), TestContext.Current.CancellationToken)).Outputs);
        var next = TokensAsync((await setup.Host.SubmitAsync(Greedy("queued", queued), TestContext.Current.CancellationToken)).Outputs);

        var error = await Assert.ThrowsAsync<SequenceFailedException>(() => failed);
        Assert.False(error.CausedByInput);
        Assert.Equal(FakeModelRunner.GreedyReference(queued, MaxTokens, EngineHarness.Vocab), await next);
        Assert.NotNull(setup.StepFailure);
        Assert.False(setup.ReadyWhenFailed);
        Assert.True(setup.Host.IsReady); // the queued request's steps succeeded
        Assert.Equal(0, setup.Pool.UsedBlockCount);
    }

    [Fact]
    public async Task An_idle_engine_that_failed_a_step_probes_until_it_is_ready_again()
    {
        using var setup = new Setup(failAtStep: 1, failures: 2, gateProbes: true);

        var failed = TokensAsync((await setup.Host.SubmitAsync(Greedy("r", EngineHarness.Prompt(3, 6)), TestContext.Current.CancellationToken)).Outputs);
        await Assert.ThrowsAsync<SequenceFailedException>(() => failed);

        Assert.False(setup.Host.IsReady);
        setup.Runner.AllowProbes();
        await WaitForAsync(() => setup.Host.IsReady);
        Assert.Equal(0, setup.Host.UnfinishedRequests);
    }

    [Fact]
    public async Task A_prompt_whose_step_failed_is_computed_again_not_matched_in_the_prefix_cache()
    {
        using var setup = new Setup(failAtStep: 0, failures: 2); // the prefill step, which writes the prompt's blocks
        int[] prompt = EngineHarness.Prompt(4, 13);

        var failed = TokensAsync((await setup.Host.SubmitAsync(Greedy("r", prompt), TestContext.Current.CancellationToken)).Outputs);
        await Assert.ThrowsAsync<SequenceFailedException>(() => failed);
        var again = await setup.Host.SubmitAsync(Greedy("r", prompt), TestContext.Current.CancellationToken);

        Assert.Equal(FakeModelRunner.GreedyReference(prompt, MaxTokens, EngineHarness.Vocab), await TokensAsync(again.Outputs));
        Assert.Equal(0, again.Usage!.CachedTokens);
    }

    private static EngineRequest Greedy(string id, int[] prompt) => new(id, prompt, new SamplingParams { Temperature = 0, MaxTokens = MaxTokens });

    private static async Task<List<int>> TokensAsync(ChannelReader<GenerationOutput> reader)
    {
        var tokens = new List<int>();
        await foreach (var output in reader.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            tokens.Add(output.Token.TokenId);
        }

        return tokens;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(condition());
    }

    /// <summary>A host over the fake model whose runner throws at a chosen step.</summary>
    private sealed class Setup : IDisposable
    {
        private readonly EngineHost? _host;

        public Setup(EngineHostOptions? options = null, int failAtStep = -1, int failures = 0, SchedulerConfig? config = null, bool gateProbes = false)
        {
            Pool = new KvBlockPool(Blocks, BlockSize);
            var kv = new KvCacheManager(Pool, ModelFingerprint.Of("fake-model"));
            Runner = new FlakyRunner(new FakeModelRunner(Blocks, BlockSize, EngineHarness.Vocab), failAtStep, failures, gateProbes);
            options ??= new EngineHostOptions();
            _host = new EngineHost(config ?? new SchedulerConfig(), kv, Runner, EngineHostTests.Setup.CreateTokenizer(), options with
            {
                ProbeInterval = TimeSpan.FromMilliseconds(20),
                OnStepFailed = e =>
                {
                    StepFailure = e;
                    ReadyWhenFailed = _host!.IsReady;
                },
            });
        }

        public KvBlockPool Pool { get; }

        public FlakyRunner Runner { get; }

        public EngineHost Host => _host!;

        public Exception? StepFailure { get; private set; }

        public bool ReadyWhenFailed { get; private set; } = true;

        public void Dispose()
        {
            Runner.AllowProbes();
            _host?.Dispose();
            Runner.Dispose();
        }
    }

    /// <summary>Throws <c>failures</c> times in a row at its <c>failAtStep</c>-th forward pass (0-based); may hold probes back.</summary>
    private sealed class FlakyRunner(FakeModelRunner inner, int failAtStep, int failures, bool gateProbes) : IModelRunner, IDisposable
    {
        private readonly ManualResetEventSlim _probes = new(!gateProbes);
        private int _calls;

        public int VocabSize => inner.VocabSize;

        public int Failures { get; private set; }

        public void AllowProbes() => _probes.Set();

        public void Dispose() => _probes.Dispose();

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            if (batch.Sequences.Any(s => s.Sequence.RequestId.StartsWith("probe", StringComparison.Ordinal)))
            {
                _probes.Wait();
            }

            if (_calls++ >= failAtStep && Failures < failures && failAtStep >= 0)
            {
                Failures++;
                throw new InvalidOperationException("injected step failure");
            }

            inner.Execute(batch, logits);
        }
    }
}
