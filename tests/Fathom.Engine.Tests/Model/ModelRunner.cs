using Fathom.Engine.Model;

namespace Fathom.Engine.Tests.Model;

/// <summary>Drives a <see cref="LlamaModel"/> through one sequence: prefill, then greedy decode.</summary>
internal static class ModelRunner
{
    public static int[] BlockTable(LlamaModel model) => Enumerable.Range(0, model.KvBlockCount).ToArray();

    public static float[] LastLogits(LlamaModel model, IReadOnlyList<int> prompt)
    {
        var logits = new float[model.HyperParameters.VocabularySize];
        model.Forward(ForwardBatch.ForSequence(prompt.ToArray(), 0, BlockTable(model)), logits);
        return logits;
    }

    public static int[] Greedy(LlamaModel model, IReadOnlyList<int> prompt, int count)
    {
        var table = BlockTable(model);
        var logits = new float[model.HyperParameters.VocabularySize];
        model.Forward(ForwardBatch.ForSequence(prompt.ToArray(), 0, table), logits);
        var result = new int[count];
        var position = prompt.Count;
        for (var i = 0; i < count; i++)
        {
            result[i] = model.ArgMax(logits);
            model.Forward(ForwardBatch.ForSequence([result[i]], position++, table), logits);
        }

        return result;
    }

    /// <summary>max |a − b| / max |b|.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxRef = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }

        return maxDiff / maxRef;
    }
}
