using System.Diagnostics;

namespace Fathom.Engine.Model;

/// <summary>
/// A throwaway forward pass at start-up, before a server reports ready (llama-server's "warming up the model"). The
/// first steps of a fresh process otherwise run the forward pass's managed code unoptimized (or compile it, where
/// tiered compilation is off, as in the engine service) and fault in its scratch and cache pages while a user waits.
/// On the 1B-shape Q8_0 model with two threads (measured with tiered compilation on), a fresh process's first
/// 256-token prefill took 2.49–2.60 s against 2.16–2.22 s for the next ones; after this warm-up (16 tokens, 0.37 s,
/// before ready) it took 2.30–2.42 s.
/// </summary>
public static class ModelWarmUp
{
    /// <summary>Decode steps after the prefill: each layer's code then runs 1 + this many times per layer.</summary>
    public const int DecodeSteps = 2;

    /// <summary>
    /// Runs a <paramref name="promptTokens"/>-token prefill and <see cref="DecodeSteps"/> decode steps of one sequence in
    /// KV blocks 0, 1, … (fewer tokens when the cache holds fewer), and says what it ran and how long it took. Call it
    /// before any sequence is scheduled: it overwrites those blocks, which hold nothing yet. Nothing else changes; a
    /// sequence computed afterwards gets the same logits as on a model that was never warmed up.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="promptTokens"/> is not positive.</exception>
    public static ModelWarmUpResult Run(LlamaModel model, int promptTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(promptTokens);
        var stopwatch = Stopwatch.StartNew();
        var capacity = model.KvBlockCount * model.KvBlockSize;
        var prompt = Math.Min(promptTokens, Math.Max(1, capacity - DecodeSteps));
        var decodes = Math.Min(DecodeSteps, capacity - prompt);
        var table = Enumerable.Range(0, ((prompt + decodes) + model.KvBlockSize - 1) / model.KvBlockSize).ToArray();
        var vocab = model.HyperParameters.VocabularySize;
        var tokens = Enumerable.Range(0, prompt).Select(i => i % vocab).ToArray(); // distinct ids: distinct embedding rows
        var logits = new float[vocab]; // (1, vocab)
        model.Forward(ForwardBatch.ForSequence(tokens, 0, table), logits);
        for (var step = 0; step < decodes; step++)
        {
            model.Forward(ForwardBatch.ForSequence([(prompt + step) % vocab], prompt + step, table), logits);
        }

        return new ModelWarmUpResult(prompt, decodes, stopwatch.Elapsed);
    }
}
