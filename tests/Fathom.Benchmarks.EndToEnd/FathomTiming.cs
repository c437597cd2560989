using System.Diagnostics;
using Fathom.Engine.Model;

/// <summary>Prefill and greedy-decode tokens/s of one sequence through a loaded model.</summary>
internal static class FathomTiming
{
    public static (double Prefill, double Decode) Measure(LlamaModel model, int[] prompt, int gen)
    {
        var table = Enumerable.Range(0, model.KvBlockCount).ToArray();
        var logits = new float[model.HyperParameters.VocabularySize];
        var clock = Stopwatch.StartNew();
        model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
        var prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (var i = 0; i < gen; i++)
        {
            model.Forward(ForwardBatch.ForSequence([model.ArgMax(logits)], prompt.Length + i, table), logits);
        }

        return (prefill, gen / clock.Elapsed.TotalSeconds);
    }
}
