using Fathom.Engine.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// The start-up warm-up runs real steps in KV blocks that no sequence owns yet: afterwards a sequence in those very
/// blocks gets the logits a never-warmed model gives, bit for bit, and a cache smaller than the warm-up asks is not
/// overrun.
/// </summary>
public sealed class ModelWarmUpTests
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 471, 303];

    private static string ModelPath => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    [Fact]
    public void A_warmed_up_model_computes_what_a_fresh_one_computes_in_the_blocks_the_warm_up_used()
    {
        var fresh = PromptAndOneDecode(warmUpTokens: 0);
        var warmed = PromptAndOneDecode(warmUpTokens: 40); // 42 positions: blocks 0-2, written before the prompt's 0-1

        Assert.Equal(fresh, warmed);
    }

    [Fact]
    public void The_warm_up_fits_a_cache_smaller_than_it_asks_for()
    {
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Threads = 1, KvBlockCount = 1 });
        var run = ModelWarmUp.Run(model, 1000); // one block of 16 positions
        Assert.Equal(14, run.PromptTokens);
        Assert.Equal(2, run.DecodeSteps);
        Assert.True(run.Elapsed > TimeSpan.Zero);
    }

    [Fact]
    public void No_tokens_is_rejected()
    {
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 });
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelWarmUp.Run(model, 0));
    }

    private static float[] PromptAndOneDecode(int warmUpTokens)
    {
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Threads = 2, KvBlockCount = 4 });
        if (warmUpTokens > 0)
        {
            ModelWarmUp.Run(model, warmUpTokens);
        }

        var vocab = model.HyperParameters.VocabularySize;
        int[] table = [0, 1];
        var logits = new float[2 * vocab];
        model.Forward(ForwardBatch.ForSequence(Prompt, 0, table), logits.AsSpan(0, vocab));
        model.Forward(ForwardBatch.ForSequence([350], Prompt.Length, table), logits.AsSpan(vocab, vocab));
        return logits;
    }
}
