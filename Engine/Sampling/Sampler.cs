using System.Numerics;
using System.Numerics.Tensors;

namespace Fathom.Engine.Sampling;

/// <summary>
/// Picks one token from a row of logits: penalties → logit bias → constraint mask → temperature → top-k → top-p →
/// min-p → draw (greedy at temperature 0, ties to the lowest id). Log probabilities are the log-softmax of the
/// processed logits (after penalties, bias, mask and temperature; before truncation) over the whole vocabulary, so a
/// token the mask excludes has probability 0 and the allowed ones share all of it.
/// For any parameters that pass <see cref="SamplingParams.Validate"/> it returns a token id in the vocabulary and
/// never throws: a logit the model gave as NaN or +∞ (a broken weight) excludes its token; an infinity that
/// processing made (a tiny repetition penalty or temperature) makes its token the top choice; when filters would
/// leave nothing, the most likely token stays; and when no token has any weight left the model's most likely finite
/// logit is taken (among the allowed tokens when masked), or token 0 (the first allowed) if it gave none.
/// </summary>
/// <remarks>Holds vocabulary-sized scratch buffers: one sampler per engine loop; not thread-safe.</remarks>
public sealed class Sampler
{
    private const float FarTail = -80f;

    private readonly TopKSelector _selector = new();
    private readonly NucleusSelector _nucleus = new();
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
    /// <param name="allowed">
    /// The sequence's constraint mask (<see cref="TokenMask"/>): only tokens set in it can be drawn. Empty: every token may be.
    /// </param>
    /// <exception cref="ArgumentException">The mask allows no token of the row.</exception>
    public SampledToken Sample(ReadOnlySpan<float> logits, SamplingParams parameters, ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens, SampleKey key,
        ReadOnlySpan<ulong> allowed = default)
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

        if (!allowed.IsEmpty)
        {
            if (TokenMask.First(allowed, vocab) < 0)
            {
                throw new ArgumentException("The constraint allows no token at this position.", nameof(allowed));
            }

            // After penalties and bias, so that neither can bring back a token the constraint excludes.
            TokenMask.Apply(x, allowed);
        }

        int chosen;
        if (parameters.IsGreedy)
        {
            chosen = TensorPrimitives.IndexOfMax<float>(x);
            if (!float.IsFinite(x[chosen]))
            {
                // IndexOfMax finds the first NaN if there is one, else the largest value: finite means all is well.
                chosen = MakeFinite(x, logits) == float.NegativeInfinity ? Degenerate(x, logits, allowed) : TensorPrimitives.IndexOfMax<float>(x);
            }
        }
        else
        {
            if (parameters.Temperature != 1f)
            {
                TensorPrimitives.Divide(x, parameters.Temperature, x);
            }

            float max = TensorPrimitives.Max(x); // NaN if any is NaN
            if (!float.IsFinite(max))
            {
                max = MakeFinite(x, logits);
            }

            chosen = max == float.NegativeInfinity ? Degenerate(x, logits, allowed) : Draw(x, max, parameters, key.NextUniform());
        }

        return parameters.Logprobs ? WithLogprobs(x, chosen, parameters.TopLogprobs) : new SampledToken(chosen, float.NaN, []);
    }

    /// <summary>
    /// Makes the processed logits usable when they are not all finite, and returns their new maximum. A logit the
    /// model itself gave as NaN or +∞ comes from a broken weight, not from evidence, so its token is excluded (-∞).
    /// A NaN that processing made is excluded too. A +∞ that processing made from a finite logit (a tiny repetition
    /// penalty dividing a positive logit, a tiny temperature) means "overwhelmingly likely": it becomes the largest
    /// finite float, so such tokens tie at the top and everything else keeps a weight of zero. Only runs when the
    /// row has a non-finite maximum, so ordinary rows are untouched (and sample exactly as before).
    /// </summary>
    private static float MakeFinite(Span<float> x, ReadOnlySpan<float> raw)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float r = raw[i];
            if (float.IsNaN(r) || float.IsPositiveInfinity(r) || float.IsNaN(x[i]))
            {
                x[i] = float.NegativeInfinity;
            }
            else if (float.IsPositiveInfinity(x[i]))
            {
                x[i] = float.MaxValue;
            }
        }

        return TensorPrimitives.Max(x);
    }

    /// <summary>
    /// No token has any weight left (every logit is -∞ or excluded): the model's most likely finite logit, or token 0
    /// when the model gave no finite logit at all — both among the allowed tokens when a mask is given. The row
    /// becomes that one token with probability 1, so logprobs stay well defined.
    /// </summary>
    private static int Degenerate(Span<float> x, ReadOnlySpan<float> raw, ReadOnlySpan<ulong> allowed)
    {
        int best = -1;
        for (int i = 0; i < raw.Length; i++)
        {
            if (float.IsFinite(raw[i]) && (best < 0 || raw[i] > raw[best]) && (allowed.IsEmpty || TokenMask.IsAllowed(allowed, i)))
            {
                best = i;
            }
        }

        best = best >= 0 ? best : allowed.IsEmpty ? 0 : TokenMask.First(allowed, raw.Length);
        x.Fill(float.NegativeInfinity);
        x[best] = 0f;
        return best;
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

    // x: temperature-scaled logits, max their (finite) maximum. u: uniform in [0, 1).
    private int Draw(ReadOnlySpan<float> x, float max, SamplingParams p, double u)
    {
        int vocab = x.Length;
        var w = _weights.AsSpan(0, vocab);
        bool topK = p.TopK > 0 && p.TopK < vocab;
        bool topP = p.TopP < 1f;
        float minWeight = p.MinP; // the most likely token has weight exp(0) = 1

        if (!topK && !topP)
        {
            ShiftedExp(x, max, w);
            if (minWeight > 0)
            {
                for (int i = 0; i < vocab; i++)
                {
                    w[i] = w[i] < minWeight ? 0f : w[i];
                }
            }

            return DrawFrom(w, u * TensorPrimitives.Sum<float>(w));
        }

        // The candidate set: the top k (best first, then cut to top-p), or for top-p alone the nucleus.
        var candidates = _candidates.AsSpan(0, vocab);
        int count;
        if (topK)
        {
            count = _selector.Select(x, p.TopK, candidates);
            double mass = 0;
            for (int i = 0; i < count; i++)
            {
                mass += w[candidates[i]] = MathF.Exp(x[candidates[i]] - max);
            }

            count = topP ? CutToMass(candidates[..count], w, p.TopP * mass) : count;
        }
        else
        {
            ShiftedExp(x, max, w);
            count = _nucleus.Select(x, max, w, p.TopP * TensorPrimitives.Sum<float>(w), candidates);
        }

        // Min-p: keep candidates with weight >= min_p (relative to the most likely, which always stays).
        if (minWeight > 0)
        {
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                if (w[candidates[i]] >= minWeight)
                {
                    candidates[kept++] = candidates[i];
                }
            }

            count = kept;
        }

        double total = 0;
        for (int i = 0; i < count; i++)
        {
            total += w[candidates[i]];
        }

        double target = u * total;
        double running = 0;
        for (int i = 0; i < count; i++)
        {
            running += w[candidates[i]];
            if (running > target)
            {
                return candidates[i];
            }
        }

        // Rounding: the running sum never passed the target. The last candidate that has weight (the most likely
        // one always has weight 1, so there is one).
        for (int i = count - 1; i > 0; i--)
        {
            if (w[candidates[i]] > 0)
            {
                return candidates[i];
            }
        }

        return candidates[0];
    }

    // w = exp(x - max), with differences below -80 flushed to exp(-inf) = 0: their weight (< 2e-35 each) is
    // negligible, and letting them through makes float subnormals, which cost microcode assists on every use.
    private static void ShiftedExp(ReadOnlySpan<float> x, float max, Span<float> w)
    {
        TensorPrimitives.Subtract(x, max, w);
        var floor = new Vector<float>(FarTail);
        var gone = new Vector<float>(float.NegativeInfinity);
        int i = 0;
        for (; i <= w.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(w[i..]);
            Vector.ConditionalSelect(Vector.LessThan(v, floor), gone, v).CopyTo(w[i..]);
        }

        for (; i < w.Length; i++)
        {
            w[i] = w[i] < FarTail ? float.NegativeInfinity : w[i];
        }

        TensorPrimitives.Exp(w, w);
    }

    // Candidates sorted best first: the shortest leading run whose weight reaches mass.
    private static int CutToMass(ReadOnlySpan<int> sorted, ReadOnlySpan<float> w, double mass)
    {
        double cumulative = 0;
        int kept = 0;
        while (kept < sorted.Length && (kept == 0 || cumulative < mass))
        {
            cumulative += w[sorted[kept++]];
        }

        return kept;
    }

    // Inverse-CDF draw over the whole vocabulary, skipping whole chunks by their (vectorised) sums.
    private static int DrawFrom(ReadOnlySpan<float> weights, double target)
    {
        const int Chunk = 1024;
        double running = 0;
        for (int start = 0; start < weights.Length; start += Chunk)
        {
            var chunk = weights.Slice(start, Math.Min(Chunk, weights.Length - start));
            double sum = TensorPrimitives.Sum<float>(chunk);
            if (running + sum <= target)
            {
                running += sum;
                continue;
            }

            int last = -1;
            for (int j = 0; j < chunk.Length; j++)
            {
                if (chunk[j] > 0)
                {
                    running += chunk[j];
                    last = j;
                    if (running > target)
                    {
                        return start + j;
                    }
                }
            }

            if (last >= 0)
            {
                return start + last; // rounding: the chunk's sum crossed the target, its scan did not
            }
        }

        for (int i = weights.Length - 1; i > 0; i--)
        {
            if (weights[i] > 0)
            {
                return i;
            }
        }

        return 0;
    }

    private SampledToken WithLogprobs(ReadOnlySpan<float> x, int chosen, int topCount)
    {
        int vocab = x.Length;
        float max = TensorPrimitives.Max(x);
        var w = _weights.AsSpan(0, vocab);
        ShiftedExp(x, max, w);
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
