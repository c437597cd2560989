using Fathom.Engine.Sampling;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Logprobs on the device, as <see cref="Sampler"/> defines them: the log-softmax over the whole vocabulary of the
/// processed logits that <see cref="SampleKernel"/> left in its scratch row (after penalties, bias and temperature,
/// before top-k/top-p/min-p), for the chosen token and the top-N tokens best first (ties: lowest id). Only those
/// ids and floats leave the device.
/// </summary>
/// <remarks>
/// The normaliser is the host's: logZ = max + log(Σ exp(x − max)) with differences below −80 weighing 0, summed in
/// f32 (the host's sum is a vectorised f32 sum, so the two differ by rounding only). A row with no finite logit is
/// the host's degenerate row: the chosen token has probability 1, every other token −∞. The top-N is N passes of a
/// group minimum over the packed rank key (descending value, then ascending id), each pass taking the best token
/// ranked after the previous pass's: O(V · N / group) for N ≤ <see cref="SamplingParams.MaxTopLogprobs"/>, no sort.
/// </remarks>
internal sealed partial class SamplingKernels
{
    /// <summary>Floats per logprob slot: the chosen token's logprob, then the top tokens'.</summary>
    internal const int LogprobStride = 1 + SamplingParams.MaxTopLogprobs;

    private readonly Action<KernelConfig, int, ArrayView<DeviceSampleRow>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>> _logprobs;

    /// <summary>
    /// One group per job; a job without a logprob slot returns at once. Reads the processed row
    /// <see cref="SampleKernel"/> wrote to <paramref name="scratch"/> and its token in <paramref name="result"/>.
    /// // scratch (n_jobs, vocab); result (n_jobs); logprobs (n_slots, LogprobStride); topIds (n_slots, MaxTopLogprobs)
    /// </summary>
    internal static void LogprobKernel(int vocab, ArrayView<DeviceSampleRow> rows, ArrayView<float> scratch, ArrayView<int> result, ArrayView<float> logprobs, ArrayView<int> topIds)
    {
        var job = Grid.IdxX;
        var p = rows[job];
        if (p.LogprobSlot < 0)
        {
            return; // the whole group leaves: no barrier is skipped by part of it
        }

        var x = scratch.SubView((long)job * vocab, vocab);
        var chosen = result[job];
        var localMax = float.MinValue; // MaxFloat's identity: a group of -inf reduces to it, hence the separate flag
        var anyFinite = 0;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            var v = x[i];
            if (v != float.NegativeInfinity)
            {
                anyFinite = 1;
                localMax = v > localMax ? v : localMax;
            }
        }

        var max = GroupExtensions.AllReduce<float, MaxFloat>(localMax);

        // No finite logit: the host's degenerate row (the chosen token 0, the rest -inf), whose logZ is 0.
        var degenerate = GroupExtensions.AllReduce<int, MaxInt32>(anyFinite) == 0;
        var logZ = 0f;
        if (!degenerate)
        {
            var sum = 0f;
            for (var i = Group.IdxX; i < vocab; i += Group.DimX)
            {
                var d = x[i] - max;
                sum += d < FarTail ? 0f : XMath.Exp(d);
            }

            sum = GroupExtensions.AllReduce<float, AddFloat>(sum);
            logZ = max + XMath.Log(sum);
        }

        var slot = p.LogprobSlot;
        if (Group.IsFirstThread)
        {
            logprobs[(slot * LogprobStride) + 0] = Processed(x, chosen, degenerate, chosen) - logZ;
        }

        var count = p.TopLogprobs < vocab ? p.TopLogprobs : vocab;
        var previous = 0UL;
        for (var t = 0; t < count; t++)
        {
            var best = ulong.MaxValue;
            for (var i = Group.IdxX; i < vocab; i += Group.DimX)
            {
                var rank = ((ulong)KeyOf(Processed(x, i, degenerate, chosen)) << 32) | (uint)i;
                if ((t == 0 || rank > previous) && rank < best)
                {
                    best = rank;
                }
            }

            best = GroupExtensions.AllReduce<ulong, MinUInt64>(best);
            previous = best;
            var id = (int)(uint)best;
            if (Group.IsFirstThread)
            {
                topIds[(slot * SamplingParams.MaxTopLogprobs) + t] = id;
                logprobs[(slot * LogprobStride) + 1 + t] = Processed(x, id, degenerate, chosen) - logZ;
            }
        }
    }

    // The row the host's logprobs read: the processed logits, or for a degenerate row only the chosen token at 0.
    private static float Processed(ArrayView<float> x, int i, bool degenerate, int chosen) =>
        degenerate ? (i == chosen ? 0f : float.NegativeInfinity) : x[i];
}
