using System.Numerics.Tensors;

namespace Fathom.Engine.Sampling;

/// <summary>
/// Top-p without a full sort: one pass buckets every token by how far its logit is below the maximum (1/32 nat
/// per bucket) and sums each bucket's weight; buckets are taken best first until the mass is reached, so only
/// the one bucket that crosses the threshold needs sorting. Reuses its buffers; not thread-safe.
/// </summary>
internal sealed class NucleusSelector
{
    private const int Buckets = 1024;
    private const float BucketsPerNat = 32f;

    private const int Lanes = 4;

    // (lanes, n_buckets): consecutive tokens add into different lanes, so runs of tokens in one bucket (the far
    // tail is one big bucket) do not chain every add on the previous one. Lanes sit a whole histogram apart:
    // interleaved lanes in one cache line measured 10-30x slower.
    private readonly double[] _bucketMass = new double[Buckets * Lanes];
    private ulong[] _sortKeys = [];
    private float[] _distance = []; // (n_vocab)
    private int[] _bucket = []; // (n_vocab)

    /// <summary>
    /// Writes the nucleus into <paramref name="result"/>: every token of the buckets above the crossing one
    /// (ascending id), then the crossing bucket's tokens best first (ties: lowest id) up to the mass. Returns the count.
    /// </summary>
    /// <param name="x">Logits. // (n_vocab)</param>
    /// <param name="max">Their maximum.</param>
    /// <param name="w">exp(x - max). // (n_vocab)</param>
    /// <param name="mass">The weight the nucleus must reach (top_p × total weight).</param>
    /// <param name="result">Destination, at least n_vocab long.</param>
    public int Select(ReadOnlySpan<float> x, float max, ReadOnlySpan<float> w, double mass, Span<int> result)
    {
        int vocab = x.Length;
        if (_bucket.Length < vocab)
        {
            _distance = new float[vocab];
            _bucket = new int[vocab];
            _sortKeys = new ulong[vocab];
        }

        // bucket = min((max - x) * 32, last), vectorised: a scalar clamp branches unpredictably on peaked rows.
        var distance = _distance.AsSpan(0, vocab);
        var buckets = _bucket.AsSpan(0, vocab);
        TensorPrimitives.Subtract(max, x, distance);
        TensorPrimitives.Multiply(distance, BucketsPerNat, distance);
        TensorPrimitives.Min(distance, Buckets - 1, distance);
        TensorPrimitives.ConvertTruncating(distance, buckets);

        Array.Clear(_bucketMass);
        for (int i = 0; i < vocab; i++)
        {
            _bucketMass[((i & (Lanes - 1)) * Buckets) + buckets[i]] += w[i];
        }

        int crossing = 0;
        double above = 0;
        while (crossing < Buckets - 1 && above + BucketMass(crossing) < mass)
        {
            above += BucketMass(crossing++);
        }

        int count = 0;
        int inCrossing = 0;
        for (int i = 0; i < vocab; i++)
        {
            int bucket = buckets[i];
            if (bucket < crossing)
            {
                result[count++] = i;
            }
            else if (bucket == crossing)
            {
                _sortKeys[inCrossing++] = ((ulong)DescendingOrder(x[i]) << 32) | (uint)i;
            }
        }

        var keys = _sortKeys.AsSpan(0, inCrossing);
        keys.Sort();
        double cumulative = above;
        for (int j = 0; j < keys.Length && (count == 0 || cumulative < mass); j++)
        {
            int token = (int)(uint)keys[j];
            result[count++] = token;
            cumulative += w[token];
        }

        return count;
    }

    private double BucketMass(int bucket) =>
        _bucketMass[bucket] + _bucketMass[Buckets + bucket] + _bucketMass[(2 * Buckets) + bucket] + _bucketMass[(3 * Buckets) + bucket];


    // A key that sorts ascending as the float sorts descending.
    private static uint DescendingOrder(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ~ascending;
    }
}
