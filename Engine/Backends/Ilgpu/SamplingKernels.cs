using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Draws one token per sampling job on the device, as <see cref="Sampling.Sampler"/> does on the host: penalties
/// and logit bias (a compact list of adjusted tokens), temperature, top-k, top-p, min-p and the inverse-CDF draw
/// with the uniform number the host drew from the request's own stream. One group per job.
/// </summary>
/// <remarks>
/// The host's candidate order decides which token a uniform number lands on, so the kernel walks the same order:
/// with neither top-k nor top-p, every token in id order; with top-k, best first (ties: lowest id); with top-p
/// alone, the nucleus's buckets above the crossing one in id order, then the crossing bucket best first (the
/// host's <c>NucleusSelector</c>). Every "best first" question — the k-th token, the shortest prefix reaching a
/// mass, the token where the running weight passes the target — is a threshold search over the rank key
/// (descending value, then ascending id): a bisection over the 32-bit order of the value and then over the id,
/// each step one group reduction over the row, so a row costs O(V · (32 + log2 V) / group) per search and never
/// O(V · k) or a sort. Sums are in double, as the host's running sums are.
/// </remarks>
internal sealed partial class SamplingKernels
{
    private const float FarTail = -80f;
    private const int Buckets = 1024;
    private const float BucketsPerNat = 32f;
    private const uint AllKeys = uint.MaxValue;
    private const int AllIds = int.MaxValue;

    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<DeviceSampleRow>, ArrayView<DeviceTokenAdjustment>, ArrayView<float>, ArrayView<int>> _sample;

    public SamplingKernels(Accelerator accelerator)
    {
        // On ILGPU's CPU accelerator every simulated lane is an OS thread and each reduction a rendezvous of them:
        // one warp per group there (the 4-lane ilgpu-cpu device still runs 4 warps' worth of cross-warp reductions).
        GroupSize = accelerator.AcceleratorType == AcceleratorType.CPU && accelerator.WarpSize >= 16 ? accelerator.WarpSize : Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _sample = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<DeviceSampleRow>, ArrayView<DeviceTokenAdjustment>, ArrayView<float>, ArrayView<int>>(SampleKernel);
        _logprobs = accelerator.LoadStreamKernel<int, ArrayView<DeviceSampleRow>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>>(LogprobKernel);
    }

    /// <summary>Threads per group of a sampling launch.</summary>
    public int GroupSize { get; }

    /// <summary>One job's parameters as the kernel reads them (see <see cref="Sampling.SamplingParams"/>).</summary>
    internal struct DeviceSampleRow
    {
        public int LogitRow;
        public int Greedy;
        public float Temperature;
        public int TopK;
        public float TopP;
        public float MinP;
        public float RepetitionPenalty;
        public float FrequencyPenalty;
        public float PresencePenalty;
        public int AdjustmentStart;
        public int AdjustmentCount;
        public int LogprobSlot;  // -1: no logprobs; else this job's slot in the logprob outputs
        public int TopLogprobs;
        public double Uniform;
    }

    /// <summary>One adjusted token of a job (see <see cref="Sampling.TokenAdjustment"/>).</summary>
    internal struct DeviceTokenAdjustment
    {
        public int Token;
        public int OutputCount;
        public int Repeated;
        public int HasBias;
        public float Bias;
    }

    /// <summary>Which tokens a reduction counts: ranked at or before a cut, above min-p, and in (or below) one nucleus bucket.</summary>
    internal struct RowFilter
    {
        public float Max;
        public int Flush;      // weights below exp(-80) count as 0 (the host's ShiftedExp); the top-k path does not flush
        public float MinP;     // 0: no min-p filter
        public uint CutKey;    // rank cut: key < CutKey, or key == CutKey and id <= CutId
        public int CutId;
        public int BucketMode; // 0: any bucket; 1: bucket == Bucket; 2: bucket < Bucket
        public int Bucket;
    }

    // ---- kernels ----

    /// <summary>
    /// One group per job: the job's processed row goes to <paramref name="scratch"/>, its token to
    /// <paramref name="result"/>. // logits (n_logits, vocab); scratch (n_jobs, vocab); result (n_jobs)
    /// </summary>
    internal static void SampleKernel(ArrayView<float> logits, int vocab, ArrayView<DeviceSampleRow> rows, ArrayView<DeviceTokenAdjustment> adjustments, ArrayView<float> scratch, ArrayView<int> result)
    {
        var job = Grid.IdxX;
        var p = rows[job];
        var raw = logits.SubView((long)p.LogitRow * vocab, vocab);
        var x = scratch.SubView((long)job * vocab, vocab);
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            x[i] = raw[i];
        }

        Group.Barrier();
        for (var a = Group.IdxX; a < p.AdjustmentCount; a += Group.DimX)
        {
            var adjustment = adjustments[p.AdjustmentStart + a];
            x[adjustment.Token] = Adjust(x[adjustment.Token], adjustment, p);
        }

        Group.Barrier();

        // Temperature, then the host's MakeFinite (a no-op on rows whose maximum is finite, which are the rows where
        // the host skips it): a NaN or +inf from the model excludes its token, a +inf processing made is the top.
        var greedy = p.Greedy != 0;
        var localMax = float.MinValue;
        var anyFinite = 0;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            var v = x[i];
            if (!greedy && p.Temperature != 1f)
            {
                v /= p.Temperature;
            }

            var r = raw[i];
            if (float.IsNaN(r) || float.IsPositiveInfinity(r) || float.IsNaN(v))
            {
                v = float.NegativeInfinity;
            }
            else if (float.IsPositiveInfinity(v))
            {
                v = float.MaxValue;
            }

            v = v == 0f ? 0f : v; // -0 ties with +0, as the host's comparisons have it
            x[i] = v;
            if (v != float.NegativeInfinity)
            {
                anyFinite = 1;
                localMax = v > localMax ? v : localMax;
            }
        }

        Group.Barrier();
        var max = GroupExtensions.AllReduce<float, MaxFloat>(localMax);
        anyFinite = GroupExtensions.AllReduce<int, MaxInt32>(anyFinite);
        int chosen;
        if (anyFinite == 0)
        {
            chosen = Degenerate(raw, vocab);
        }
        else if (greedy)
        {
            chosen = FirstIndexOf(x, vocab, max);
        }
        else
        {
            chosen = Draw(x, vocab, max, p);
        }

        if (Group.IsFirstThread)
        {
            result[job] = chosen;
        }
    }

    // ---- device functions ----

    // The host's penalty and bias steps for one token, in its order and with its float operations.
    private static float Adjust(float v, DeviceTokenAdjustment a, DeviceSampleRow p)
    {
        if (p.RepetitionPenalty != 1f && a.Repeated != 0)
        {
            v = v > 0 ? v / p.RepetitionPenalty : v * p.RepetitionPenalty;
        }

        if ((p.FrequencyPenalty != 0f || p.PresencePenalty != 0f) && a.OutputCount > 0)
        {
            v -= (p.FrequencyPenalty * a.OutputCount) + p.PresencePenalty;
        }

        return a.HasBias != 0 ? v + a.Bias : v;
    }

    // No token has weight: the model's most likely finite logit (first on ties), or token 0.
    private static int Degenerate(ArrayView<float> raw, int vocab)
    {
        var best = float.MinValue;
        var any = 0;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            var r = raw[i];
            if (float.IsFinite(r))
            {
                any = 1;
                best = r > best ? r : best;
            }
        }

        best = GroupExtensions.AllReduce<float, MaxFloat>(best);
        any = GroupExtensions.AllReduce<int, MaxInt32>(any);
        return any == 0 ? 0 : FirstIndexOf(raw, vocab, best);
    }

    // The lowest index holding value (greedy: ties go to the lowest id).
    private static int FirstIndexOf(ArrayView<float> x, int vocab, float value)
    {
        var first = AllIds;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            if (x[i] == value)
            {
                first = i;
                break;
            }
        }

        return GroupExtensions.AllReduce<int, MinInt32>(first);
    }

    private static int Draw(ArrayView<float> x, int vocab, float max, DeviceSampleRow p)
    {
        var topK = p.TopK > 0 && p.TopK < vocab;
        var topP = p.TopP < 1f;
        var filter = new RowFilter { Max = max, Flush = topK ? 0 : 1, CutKey = AllKeys, CutId = AllIds };
        if (topK)
        {
            var k = SmallestRank(x, vocab, filter, p.TopK, 0, strict: false, count: true);
            filter.CutKey = (uint)(k >> 32);
            filter.CutId = (int)(uint)k;
        }

        var crossing = Buckets - 1;
        if (topP)
        {
            // The host: top-k's mass in double times top_p; the nucleus's total is a float sum.
            var all = Mass(x, vocab, filter, AllKeys, AllIds, count: false);
            var mass = topK ? p.TopP * all : (double)(p.TopP * (float)all);
            var cut = SmallestRank(x, vocab, filter, mass, 0, strict: false, count: false);
            if (cut != ulong.MaxValue)
            {
                filter.CutKey = (uint)(cut >> 32);
                filter.CutId = (int)(uint)cut;
                crossing = BucketOf(x[filter.CutId], max);
            }
        }

        filter.MinP = p.MinP;
        var total = Mass(x, vocab, filter, AllKeys, AllIds, count: false);
        if (!topK && !topP)
        {
            // The host sums the whole row's weights in float, then walks the ids.
            var target = p.Uniform * (float)total;
            var found = IdOrderSearch(x, vocab, filter, target, out _);
            return found != AllIds ? found : LastPositiveId(x, vocab, filter, max);
        }

        if (topK)
        {
            var rank = SmallestRank(x, vocab, filter, p.Uniform * total, 0, strict: true, count: false);
            return rank != ulong.MaxValue ? (int)(uint)rank : LastRanked(x, vocab, filter, max);
        }

        // Top-p alone: the buckets above the crossing one in id order, then the crossing bucket best first.
        var nucleusTarget = p.Uniform * total;
        var above = filter;
        above.BucketMode = 2;
        above.Bucket = crossing;
        var inAbove = IdOrderSearch(x, vocab, above, nucleusTarget, out var aboveMass);
        if (inAbove != AllIds)
        {
            return inAbove;
        }

        var inCrossing = filter;
        inCrossing.BucketMode = 1;
        inCrossing.Bucket = crossing;
        var last = SmallestRank(x, vocab, inCrossing, nucleusTarget, aboveMass, strict: true, count: false);
        if (last != ulong.MaxValue)
        {
            return (int)(uint)last;
        }

        var worst = LastRanked(x, vocab, inCrossing, max);
        return worst != AllIds && Weight(x[worst], inCrossing) > 0 ? worst : LastPositiveId(x, vocab, above, max);
    }

    // ---- launcher ----

    /// <summary>Draws one token per job. // logits (n_logits, vocab); scratch (n_jobs, vocab); result (n_jobs)</summary>
    public void Sample(ArrayView<float> logits, int vocab, ArrayView<DeviceSampleRow> rows, int jobs, ArrayView<DeviceTokenAdjustment> adjustments, ArrayView<float> scratch, ArrayView<int> result) =>
        _sample(new KernelConfig(jobs, GroupSize), logits, vocab, rows, adjustments, scratch, result);

    /// <summary>
    /// After <see cref="Sample"/> on the same views: the logprobs of each job with a slot.
    /// // scratch (n_jobs, vocab); result (n_jobs); logprobs (n_slots, LogprobStride); topIds (n_slots, MaxTopLogprobs)
    /// </summary>
    public void Logprobs(int vocab, ArrayView<DeviceSampleRow> rows, int jobs, ArrayView<float> scratch, ArrayView<int> result, ArrayView<float> logprobs, ArrayView<int> topIds) =>
        _logprobs(new KernelConfig(jobs, GroupSize), vocab, rows, scratch, result, logprobs, topIds);
}
