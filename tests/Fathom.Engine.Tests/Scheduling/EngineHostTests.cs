using System.Text;
using System.Threading.Channels;
using Fathom.Engine.KvCache;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>The engine loop thread with per-request output channels, over the fake model.</summary>
public sealed class EngineHostTests
{
    private const int Blocks = 64;
    private const int BlockSize = 4;

    [Fact]
    public async Task Outputs_are_the_greedy_tokens_with_their_text_and_usage()
    {
        using var setup = new Setup();
        int[] prompt = EngineHarness.Prompt(3, 9);
        var expected = FakeModelRunner.GreedyReference(prompt, 12, EngineHarness.Vocab);

        var outputs = await setup.Host.SubmitAsync(Greedy(prompt, 12), TestContext.Current.CancellationToken);
        var all = await ReadAllAsync(outputs.Outputs);

        Assert.Equal(expected, all.Select(o => o.Token.TokenId));
        Assert.Equal(Text(expected), string.Concat(all.Select(o => o.Text)));
        Assert.Equal(FinishReason.Length, all[^1].FinishReason);
        Assert.All(all[..^1], o => Assert.Null(o.FinishReason));
        Assert.Equal(new GenerationUsage(9, 12, 0), outputs.Usage);
        Assert.Equal(0, setup.Pool.UsedBlockCount);
    }

    [Fact]
    public async Task A_stop_string_split_across_tokens_cuts_the_text_and_stops()
    {
        using var setup = new Setup();
        int[] prompt = EngineHarness.Prompt(5, 7);
        // Control tokens (no text) are biased away so that every token spells two characters.
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 10, LogitBias = new Dictionary<int, float> { [0] = -100, [1] = -100, [2] = -100 } };
        var free = await ReadAllAsync((await setup.Host.SubmitAsync(new EngineRequest("free", prompt, sampling), TestContext.Current.CancellationToken)).Outputs);
        string full = string.Concat(free.Select(o => o.Text));
        Assert.Equal(20, full.Length);
        // The last character of token 4 and the first of token 5: no single token holds it.
        string stop = full.Substring(9, 2);
        int cut = full.IndexOf(stop, StringComparison.Ordinal);

        var outputs = await setup.Host.SubmitAsync(new EngineRequest("stop", prompt, sampling with { Stop = [stop] }), TestContext.Current.CancellationToken);
        var all = await ReadAllAsync(outputs.Outputs);

        Assert.Equal(full[..cut], string.Concat(all.Select(o => o.Text)));
        Assert.Equal(FinishReason.Stop, all[^1].FinishReason);
        Assert.Equal((cut + 3) / 2, all.Count); // ends with the token that completed the stop string
    }

    [Fact]
    public async Task Cancelling_aborts_the_request_and_returns_its_blocks()
    {
        using var setup = new Setup(gated: true);
        using var cancel = new CancellationTokenSource();
        var outputs = await setup.Host.SubmitAsync(Greedy(EngineHarness.Prompt(1, 10), 500), cancel.Token);
        setup.Runner.Open(3);
        await outputs.Outputs.ReadAsync(TestContext.Current.CancellationToken);
        Assert.True(setup.Pool.UsedBlockCount > 0);

        await cancel.CancelAsync();
        setup.Runner.Open(1000);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(outputs.Outputs));
        Assert.Null(outputs.Usage);
        await WaitForAsync(() => setup.Pool.UsedBlockCount == 0 && setup.Host.UnfinishedRequests == 0);
        Assert.True(setup.Runner.Steps < 100, $"{setup.Runner.Steps} steps ran: the abort came late");
    }

    [Fact]
    public async Task A_full_queue_rejects_with_a_retry_hint()
    {
        using var setup = new Setup(new EngineHostOptions { MaxQueuedRequests = 2, RetryAfter = TimeSpan.FromSeconds(3) }, gated: true);
        var first = await setup.Host.SubmitAsync(Greedy(EngineHarness.Prompt(1, 5), 4), TestContext.Current.CancellationToken);
        var second = await setup.Host.SubmitAsync(Greedy(EngineHarness.Prompt(2, 5), 4), TestContext.Current.CancellationToken);

        var rejected = await Assert.ThrowsAsync<EngineOverloadedException>(async () =>
            await setup.Host.SubmitAsync(Greedy(EngineHarness.Prompt(3, 5), 4), TestContext.Current.CancellationToken));

        Assert.Equal(TimeSpan.FromSeconds(3), rejected.RetryAfter);
        setup.Runner.Open(1000);
        Assert.Equal(4, (await ReadAllAsync(first.Outputs)).Count);
        Assert.Equal(4, (await ReadAllAsync(second.Outputs)).Count);
    }

    [Fact]
    public async Task Bad_requests_throw_before_anything_is_queued()
    {
        using var setup = new Setup();

        await Assert.ThrowsAsync<InvalidSamplingParameterException>(async () =>
            await setup.Host.SubmitAsync(new EngineRequest("r", [1, 2], new SamplingParams { TopP = 0 }), TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<RequestRejectedException>(async () =>
            await setup.Host.SubmitAsync(new EngineRequest("r", [], new SamplingParams()), TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidSamplingParameterException>(async () =>
            await setup.Host.SubmitAsync(new EngineRequest("r", [1], new SamplingParams { StopTokenIds = [EngineHarness.Vocab] }), TestContext.Current.CancellationToken));
        Assert.Equal(0, setup.Host.UnfinishedRequests);
    }

    [Fact]
    public async Task The_prefetch_seam_sees_each_prompt_before_it_is_queued()
    {
        var seen = new List<int[]>();
        using var setup = new Setup(new EngineHostOptions
        {
            Prefetch = (request, _) =>
            {
                seen.Add([.. request.PromptTokenIds]);
                return ValueTask.CompletedTask;
            },
        });
        int[] prompt = EngineHarness.Prompt(4, 6);

        var outputs = await setup.Host.SubmitAsync(Greedy(prompt, 2), TestContext.Current.CancellationToken);
        await ReadAllAsync(outputs.Outputs);

        Assert.Equal(prompt, Assert.Single(seen));
    }

    private static EngineRequest Greedy(int[] prompt, int maxTokens) => new("req", prompt, new SamplingParams { Temperature = 0, MaxTokens = maxTokens });

    // Control tokens (ids 0-2) have no text.
    private static string Text(IEnumerable<int> tokens) => string.Concat(tokens.Where(t => t > 2).Select(Setup.PieceOf));

    private static async Task<List<GenerationOutput>> ReadAllAsync(ChannelReader<GenerationOutput> reader)
    {
        var all = new List<GenerationOutput>();
        await foreach (var output in reader.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            all.Add(output);
        }

        return all;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(condition());
    }

    /// <summary>A host over the fake model whose steps wait for <see cref="GatedRunner.Open"/> (open at once unless gated).</summary>
    internal sealed class Setup : IDisposable
    {
        public Setup(EngineHostOptions? options = null, bool gated = false, SchedulerConfig? config = null)
        {
            Pool = new KvBlockPool(Blocks, BlockSize);
            var kv = new KvCacheManager(Pool, ModelFingerprint.Of("fake-model"));
            Runner = new GatedRunner(new FakeModelRunner(Blocks, BlockSize, EngineHarness.Vocab));
            Host = new EngineHost(config ?? new SchedulerConfig(), kv, Runner, CreateTokenizer(), options);
            if (!gated)
            {
                Runner.Open(1_000_000);
            }
        }

        public KvBlockPool Pool { get; }

        public GatedRunner Runner { get; }

        public EngineHost Host { get; }

        // Token i > 2 spells a letter and a digit ("a0", "b0", …): texts are easy to cut anywhere.
        public static string PieceOf(int token) => $"{(char)('a' + ((token - 3) % 26))}{(token - 3) / 26}";

        public void Dispose()
        {
            Runner.Open(1_000_000);
            Host.Dispose();
            Runner.Dispose();
        }

        internal static Tokenizer CreateTokenizer()
        {
            var tokens = new List<string> { "<unk>", "<s>", "</s>" };
            tokens.AddRange(Enumerable.Range(3, EngineHarness.Vocab - 3).Select(PieceOf));
            return Tokenizer.Create(new TokenizerVocabulary
            {
                Model = "llama",
                Tokens = tokens,
                Scores = [.. tokens.Select(_ => 0f)],
                TokenTypes = [2, 3, 3, .. Enumerable.Repeat(1, EngineHarness.Vocab - 3)],
                BosId = 1,
                EosId = 2,
                UnknownId = 0,
            });
        }
    }

    /// <summary>Lets a test hold the engine between steps.</summary>
    internal sealed class GatedRunner(FakeModelRunner inner) : IModelRunner, IDisposable
    {
        private readonly SemaphoreSlim _gate = new(0);

        public int VocabSize => inner.VocabSize;

        public int Steps { get; private set; }

        /// <summary>The steps run so far, in order (the inner runner's record).</summary>
        public IReadOnlyList<SchedulerOutput> Batches => inner.Steps;

        public void Open(int steps) => _gate.Release(steps);

        public void Dispose() => _gate.Dispose();

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            _gate.Wait();
            Steps++;
            inner.Execute(batch, logits);
        }
    }
}
