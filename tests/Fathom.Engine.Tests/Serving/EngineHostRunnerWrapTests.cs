using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Serving;

/// <summary><see cref="EngineHostOptions.WrapRunner"/> puts a wrapper around every step the host runs.</summary>
public sealed class EngineHostRunnerWrapTests
{
    private sealed class CountingRunner(IModelRunner inner) : IModelRunner
    {
        public int Steps;

        public int Tokens;

        public int VocabSize => inner.VocabSize;

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            Steps++;
            Tokens += batch.NumScheduledTokens;
            inner.Execute(batch, logits);
        }
    }

    [Fact]
    public async Task The_wrapped_runner_sees_every_step()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        using var served = ServedModel.Load(path, new ServedModelOptions { Threads = 1 });
        CountingRunner? counting = null;
        using var host = EngineHostFactory.Create(served, options: new EngineHostOptions { WrapRunner = r => counting = new CountingRunner(r) });
        var outputs = await host.SubmitAsync(new EngineRequest("wrap", served.EncodePrompt("Once upon a time"), new SamplingParams { Temperature = 0, MaxTokens = 6, IgnoreEos = true }),
            TestContext.Current.CancellationToken);
        var tokens = 0;
        await foreach (var _ in outputs.Outputs.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            tokens++;
        }

        Assert.Equal(6, tokens);
        Assert.NotNull(counting);
        Assert.Equal(6, counting.Steps); // one prefill step, then five decodes
        Assert.Equal(outputs.PromptTokens + 5, counting.Tokens);
    }
}
