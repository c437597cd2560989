using System.Numerics.Tensors;

namespace Fathom.Engine.Sampling;

/// <summary>
/// Picks one token from a row of logits: penalties → logit bias → temperature → top-k → top-p → min-p → draw
/// (greedy at temperature 0, ties to the lowest id). Log probabilities are the log-softmax of the processed
/// logits (after penalties, bias and temperature; before truncation) over the whole vocabulary.
/// </summary>
/// <remarks>Holds vocabulary-sized scratch buffers: one sampler per engine loop; not thread-safe.</remarks>
public sealed class Sampler
{
    private const int FirstTopPCandidates = 64;

    private readonly TopKSelector _selector = new();
    private float[] _logits = []; // (n_vocab) processed logits
    private float[] _weights = []; // (n_vocab) exp(logit - max)
    private int[] _candidates = []; // (n_vocab) token ids, best first
    private int[] _counts = []; // (n_vocab) output occurrences; all zero between calls
    private bool[] _seen = []; // (n_vocab) prompt-or-output membership; all false between calls

    /// <summary>Samples the next token of one sequence.</summary>
    /// <param name="logits">The model's logits for the position. // (n_vocab)</param>
    /// <param name="parameters">The request's validated sampling parameters.</param>
    /// <param name="promptTokens">The prompt (for the repetition penalty).</param>
    /// <param name="outputTokens">Tokens generated so far (for all penalties).</param>
    /// <param name="key">The draw's key in the request's random stream.</param>
    public SampledToken Sample(ReadOnlySpan<float> logits, SamplingParams parameters, ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens, SampleKey key)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (logits.IsEmpty)
        {
            throw new ArgumentException("The logits row is empty.", nameof(logits));
        }

        int vocab = logits.Length;
        EnsureCapacity(vocab);
        var x = _logits.AsSpan(0, vocab);
        logits.CopyTo(x);
        ApplyPenalties(x, parameters, promptTokens, outputTokens);
        if (parameters.LogitBias is { } bias)
        {
            foreach (var (token, value) in bias)
            {
                if ((uint)token < (uint)vocab)
                {
                    x[token] += value;
                }
            }
        }

        int chosen;
        if (parameters.IsGreedy)
        {
            chosen = TensorPrimitives.IndexOfMax<float>(x);
        }
        else
        {
            if (parameters.Temperature != 1f)
            {
                TensorPrimitives.Divide(x, parameters.Temperature, x);
            }

            chosen = Draw(x, parameters, key.NextUniform());
        }

        return parameters.Logprobs ? WithLogprobs(x, chosen, parameters.TopLogprobs) : new SampledToken(chosen, float.NaN, []);
    }

    private void ApplyPenalties(Span<float> x, SamplingParams p, ReadOnlySpan<int> prompt, ReadOnlySpan<int> output)
    {
        int vocab = x.Length;
        if (p.RepetitionPenalty != 1f)
        {
            float penalty = p.RepetitionPenalty;
            Penalize(x, prompt, penalty);
            Penalize(x, output, penalty);
            Unmark(prompt, vocab);
            Unmark(output, vocab);
        }

        if (p.FrequencyPenalty != 0f || p.PresencePenalty != 0f)
        {
            foreach (int t in output)
            {
                if ((uint)t < (uint)vocab)
                {
                    _counts[t]++;
                }
            }

            foreach (int t in output)
            {
                if ((uint)t < (uint)vocab && _counts[t] > 0)
                {
                    x[t] -= (p.FrequencyPenalty * _counts[t]) + p.PresencePenalty;
                    _counts[t] = 0; // applied once per distinct token
                }
            }
        }
    }

    private void Penalize(Span<float> x, ReadOnlySpan<int> tokens, float penalty)
    {
        foreach (int t in tokens)
        {
            if ((uint)t < (uint)x.Length && !_seen[t])
            {
                _seen[t] = true;
                x[t] = x[t] > 0 ? x[t] / penalty : x[t] * penalty;
            }
        }
    }

    private void Unmark(ReadOnlySpan<int> tokens, int vocab)
    {
        foreach (int t in tokens)
        {
            if ((uint)t < (uint)vocab)
            {
                _seen[t] = false;
            }
        }
    }

    // x: temperature-scaled logits. u: uniform in [0, 1).
    private int Draw(ReadOnlySpan<float> x, SamplingParams p, double u)
    {
        int vocab = x.Length;
        float max = TensorPrimitives.Max(x);
        var w = _weights.AsSpan(0, vocab);
        bool topK = p.TopK > 0 && p.TopK < vocab;
        bool topP = p.TopP < 1f;
        float minWeight = p.MinP; // weight of the most likely token is exp(0) = 1

        if (!topK && !topP)
        {
            TensorPrimitives.Subtract(x, max, w);
            TensorPrimitives.Exp(w, w);
            if (minWeight > 0)
            {
                for (int i = 0; i < vocab; i++)
                {
                    w[i] = w[i] < minWeight ? 0f : w[i];
                }
            }

            return DrawFrom(w, u * TensorPrimitives.Sum<float>(w));
        }

        // Candidates, best first: the top k, or for top-p alone a growing top-m until it holds the needed mass.
        var candidates = _candidates.AsSpan(0, vocab);
        int count;
        double mass;
        if (topK)
        {
            count = _selector.Select(x, p.TopK, candidates);
            mass = 0;
            for (int i = 0; i < count; i++)
            {
                mass += w[candidates[i]] = MathF.Exp(x[candidates[i]] - max);
            }
        }
        else
        {
            TensorPrimitives.Subtract(x, max, w);
            TensorPrimitives.Exp(w, w);
            mass = TensorPrimitives.Sum<float>(w);
            int m = FirstTopPCandidates;
            while (true)
            {
                count = _selector.Select(x, m, candidates);
                double held = 0;
                for (int i = 0; i < count; i++)
                {
                    held += w[candidates[i]];
                }

                if (held >= p.TopP * mass || count == vocab)
                {
                    break;
                }

                m = (int)Math.Min((long)m * 8, vocab);
            }
        }

        // Top-p: shortest best-first run reaching the mass; min-p: drop candidates under the cutoff.
        double threshold = p.TopP * mass;
        double cumulative = 0;
        int kept = 0;
        double keptMass = 0;
        for (; kept < count; kept++)
        {
            float weight = w[candidates[kept]];
            if (topP && cumulative >= threshold)
            {
                break;
            }

            cumulative += weight;
            if (weight < minWeight)
            {
                break; // candidates are sorted, so the rest are below too
            }

            keptMass += weight;
        }

        kept = Math.Max(kept, 1);
        double target = u * Math.Max(keptMass, w[candidates[0]]);
        double running = 0;
        for (int i = 0; i < kept; i++)
        {
            running += w[candidates[i]];
            if (running > target)
            {
                return candidates[i];
            }
        }

        return candidates[kept - 1];
    }

    private static int DrawFrom(ReadOnlySpan<float> weights, double target)
    {
        double running = 0;
        int last = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] > 0)
            {
                running += weights[i];
                last = i;
                if (running > target)
                {
                    return i;
                }
            }
        }

        return last;
    }

    private SampledToken WithLogprobs(ReadOnlySpan<float> x, int chosen, int topCount)
    {
        int vocab = x.Length;
        float max = TensorPrimitives.Max(x);
        var w = _weights.AsSpan(0, vocab);
        TensorPrimitives.Subtract(x, max, w);
        TensorPrimitives.Exp(w, w);
        float logZ = max + MathF.Log(TensorPrimitives.Sum<float>(w));
        var top = Array.Empty<TokenLogprob>();
        if (topCount > 0)
        {
            var ids = _candidates.AsSpan(0, Math.Min(topCount, vocab));
            int n = _selector.Select(x, ids.Length, ids);
            top = new TokenLogprob[n];
            for (int i = 0; i < n; i++)
            {
                top[i] = new TokenLogprob(ids[i], x[ids[i]] - logZ);
            }
        }

        return new SampledToken(chosen, x[chosen] - logZ, top);
    }

    private void EnsureCapacity(int vocab)
    {
        if (_logits.Length >= vocab)
        {
            return;
        }

        _logits = new float[vocab];
        _weights = new float[vocab];
        _candidates = new int[vocab];
        _counts = new int[vocab];
        _seen = new bool[vocab];
    }
}
