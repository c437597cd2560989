using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The threshold searches of <see cref="SampleKernel"/>: weights under a row filter, the rank key (descending value,
/// then ascending id), and the bisections that find the k-th token, the shortest prefix reaching a mass and the token
/// where the running weight passes the target, each step one group reduction over the row.
/// </summary>
internal sealed partial class SamplingKernels
{
    // w = exp(x - max); with Flush, differences below -80 weigh 0 (the host's ShiftedExp).
    private static float Weight(float v, RowFilter f)
    {
        var d = v - f.Max;
        return f.Flush != 0 && d < FarTail ? 0f : XMath.Exp(d);
    }

    private static int BucketOf(float v, float max)
    {
        var d = (max - v) * BucketsPerNat;
        return (int)(d < Buckets - 1 ? d : Buckets - 1);
    }

    // A key that sorts ascending as the value sorts descending (the host's DescendingOrder).
    private static uint KeyOf(float v)
    {
        var bits = (uint)Interop.FloatAsInt(v);
        var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ~ascending;
    }

    private static bool RankedAtOrBefore(uint key, int id, uint cutKey, int cutId) => key < cutKey || (key == cutKey && id <= cutId);

    // Whether token i passes the filter; its weight in w.
    private static bool Passes(float v, int i, RowFilter f, out float w)
    {
        w = Weight(v, f);
        if (!RankedAtOrBefore(KeyOf(v), i, f.CutKey, f.CutId) || (f.MinP > 0 && w < f.MinP))
        {
            return false;
        }

        return f.BucketMode == 0 || (f.BucketMode == 1 ? BucketOf(v, f.Max) == f.Bucket : BucketOf(v, f.Max) < f.Bucket);
    }

    // Weight (or count) of the tokens passing the filter and ranked at or before (key, id).
    private static double Mass(ArrayView<float> x, int vocab, RowFilter f, uint key, int id, bool count)
    {
        double sum = 0;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            var v = x[i];
            if (Passes(v, i, f, out var w) && RankedAtOrBefore(KeyOf(v), i, key, id))
            {
                sum += count ? 1.0 : w;
            }
        }

        return GroupExtensions.AllReduce<double, AddDouble>(sum);
    }

    private static bool Reaches(double mass, double target, bool strict) => strict ? mass > target : mass >= target;

    /// <summary>
    /// The smallest rank (key, id) whose prefix mass (offset + the filtered weight or count ranked at or before it)
    /// reaches target (passes it when strict), packed key &lt;&lt; 32 | id; <see cref="ulong.MaxValue"/> when the whole row does not.
    /// </summary>
    private static ulong SmallestRank(ArrayView<float> x, int vocab, RowFilter f, double target, double offset, bool strict, bool count)
    {
        if (!Reaches(offset + Mass(x, vocab, f, AllKeys, AllIds, count), target, strict))
        {
            return ulong.MaxValue;
        }

        uint low = 0, high = AllKeys;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (Reaches(offset + Mass(x, vocab, f, middle, AllIds, count), target, strict))
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        int first = 0, last = vocab - 1;
        while (first < last)
        {
            var middle = first + ((last - first) / 2);
            if (Reaches(offset + Mass(x, vocab, f, low, middle, count), target, strict))
            {
                last = middle;
            }
            else
            {
                first = middle + 1;
            }
        }

        return ((ulong)low << 32) | (uint)first;
    }

    /// <summary>
    /// The first id (in id order) where the running filtered weight passes target: each thread owns a contiguous
    /// run of ids, an exclusive scan gives each run its starting sum, and the runs that start at or below the
    /// target walk their ids. <paramref name="mass"/> is the filtered total. Returns int.MaxValue when none passes.
    /// </summary>
    private static int IdOrderSearch(ArrayView<float> x, int vocab, RowFilter f, double target, out double mass)
    {
        var run = (vocab + Group.DimX - 1) / Group.DimX;
        var start = Group.IdxX * run;
        var end = start + run < vocab ? start + run : vocab;
        double own = 0;
        for (var i = start; i < end; i++)
        {
            if (Passes(x[i], i, f, out var w))
            {
                own += w;
            }
        }

        var before = GroupExtensions.ExclusiveScan<double, AddDouble>(own);
        mass = GroupExtensions.AllReduce<double, AddDouble>(own);
        var found = AllIds;
        if (own > 0)
        {
            // A run that starts past the target (the previous run's walk fell short by rounding) offers its first token.
            var running = before;
            for (var i = start; i < end && found == AllIds; i++)
            {
                if (Passes(x[i], i, f, out var w) && w > 0)
                {
                    running += w;
                    found = before > target || running > target ? i : AllIds;
                }
            }
        }

        return GroupExtensions.AllReduce<int, MinInt32>(found);
    }

    // Rounding fallback in id order: the last filtered token with weight (the host's DrawFrom), else the top token.
    private static int LastPositiveId(ArrayView<float> x, int vocab, RowFilter f, float max)
    {
        var last = -1;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            if (Passes(x[i], i, f, out var w) && w > 0)
            {
                last = i;
            }
        }

        last = GroupExtensions.AllReduce<int, MaxInt32>(last);
        return last >= 0 ? last : FirstIndexOf(x, vocab, max);
    }

    // Rounding fallback best first: the worst-ranked filtered token with weight (the host's candidate scan), else the top token.
    private static int LastRanked(ArrayView<float> x, int vocab, RowFilter f, float max)
    {
        uint worstKey = 0;
        var any = 0;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            var v = x[i];
            if (Passes(v, i, f, out var w) && w > 0)
            {
                any = 1;
                var key = KeyOf(v);
                worstKey = key > worstKey ? key : worstKey;
            }
        }

        any = GroupExtensions.AllReduce<int, MaxInt32>(any);
        worstKey = GroupExtensions.AllReduce<uint, MaxUInt32>(worstKey);
        if (any == 0)
        {
            return FirstIndexOf(x, vocab, max);
        }

        var worst = -1;
        for (var i = Group.IdxX; i < vocab; i += Group.DimX)
        {
            var v = x[i];
            if (Passes(v, i, f, out var w) && w > 0 && KeyOf(v) == worstKey)
            {
                worst = i;
            }
        }

        return GroupExtensions.AllReduce<int, MaxInt32>(worst);
    }
}
