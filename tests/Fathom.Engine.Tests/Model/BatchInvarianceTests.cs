using Fathom.Engine.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// The CPU backend's designed guarantee: a token's logits do not depend on what else is in its batch, nor on
/// whether its prompt was prefilled at once or a token at a time — bit for bit.
/// </summary>
public sealed class BatchInvarianceTests
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 471, 303];

    private static string ModelPath => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Token_alone_equals_token_in_a_batch_of_seven(int threads)
    {
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Threads = threads, KvBlockCount = 16 });
        var vocab = model.HyperParameters.VocabularySize;
        int[] tableA = [0, 1];
        int[] tableB = [2, 3];
        int[] tableC = [4, 5];

        // Alone: prefill the prompt, then decode one token by itself.
        var alone = new float[vocab];
        model.Forward(ForwardBatch.ForSequence(Prompt, 0, tableA), alone);
        model.Forward(ForwardBatch.ForSequence([350], Prompt.Length, tableA), alone);

        // Together: the same prompt again (fresh blocks), then the same token batched with six tokens of two other
        // sequences — one prefilling, one decoding deep in its context.
        var scratch = new float[vocab];
        model.Forward(ForwardBatch.ForSequence(Prompt, 0, tableC), scratch);
        model.Forward(ForwardBatch.ForSequence(Enumerable.Range(10, 20).ToArray(), 0, tableB), scratch);
        var batch = new ForwardBatch(
            tokens: [100, 101, 102, 350, 103, 104, 105],
            positions: [0, 1, 2, Prompt.Length, 20, 21, 22],
            sequenceIndices: [2, 2, 2, 0, 1, 1, 1],
            blockTables: [tableC, tableB, [6, 7]],
            logitTokenIndices: [6, 3, 0]);
        var together = new float[3 * vocab];
        model.Forward(batch, together);

        Assert.Equal(alone, together.AsSpan(vocab, vocab).ToArray());
    }

    [Fact]
    public void Prefill_at_once_equals_one_token_at_a_time()
    {
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Threads = 2, KvBlockCount = 4 });
        var vocab = model.HyperParameters.VocabularySize;
        int[] table = [0, 1];
        var once = new float[vocab];
        model.Forward(ForwardBatch.ForSequence(Prompt, 0, table), once);
        var stepwise = new float[vocab];
        for (var i = 0; i < Prompt.Length; i++)
        {
            model.Forward(ForwardBatch.ForSequence([Prompt[i]], i, table), stepwise);
        }

        Assert.Equal(once, stepwise);
    }
}
