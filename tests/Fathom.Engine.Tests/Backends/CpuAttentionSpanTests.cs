using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Tests.Backends;

/// <summary>
/// The CPU attention's work items take a span of adjacent KV heads (contiguous in the cache) sized by the thread count;
/// the span must never change a number, and must leave every thread an item.
/// </summary>
public sealed class CpuAttentionSpanTests
{
    [Theory]
    [InlineData(8, 1, 1, 8)] // one decode token, one thread: every head in one item, whole cache rows read
    [InlineData(8, 1, 2, 4)] // two threads: two items
    [InlineData(8, 1, 3, 2)] // three threads: the largest divisor that leaves each an item
    [InlineData(8, 1, 16, 1)] // more threads than heads: one head each
    [InlineData(8, 8, 2, 8)] // eight sequences: whole rows, still an item per thread
    [InlineData(6, 1, 2, 3)]
    [InlineData(1, 1, 4, 1)]
    public void Span_is_the_widest_divisor_that_leaves_every_thread_an_item(int kvHeads, int runs, int threads, int expected)
    {
        Assert.Equal(expected, CpuBackend.HeadSpan(kvHeads, runs, threads, scoresPerHead: 1024));
    }

    [Fact]
    public void Long_contexts_narrow_the_span_to_bound_the_scores()
    {
        const long PerHead = 1L << 20; // floats of scores one KV head's outputs need
        Assert.Equal(4, CpuBackend.HeadSpan(8, 1, 1, PerHead)); // 4 Mi floats is the budget
        Assert.Equal(1, CpuBackend.HeadSpan(8, 1, 1, 4 * PerHead));
        Assert.Equal(1, CpuBackend.HeadSpan(8, 1, 1, 64 * PerHead)); // never below one head
    }

    [Theory]
    [InlineData(KvCacheDataType.F16)]
    [InlineData(KvCacheDataType.F32)]
    [InlineData(KvCacheDataType.Fp8)]
    public void Outputs_are_the_same_bits_whatever_the_span(KvCacheDataType kvType)
    {
        const int Heads = 16, KvHeads = 8, HeadDim = 64, Prompt = 70;
        var random = new Random(3);
        var storage = new PagedKvStorage(1, 8, 16, KvHeads, HeadDim, kvType);
        int[][] tables = [[5, 1, 7, 0, 3]];
        var batch = new ForwardBatch(new int[Prompt], Enumerable.Range(0, Prompt).ToArray(), new int[Prompt], tables, [Prompt - 1]);
        var q = Random(random, Prompt * Heads * HeadDim);
        using var one = new CpuBackend(1);
        using var eight = new CpuBackend(8);
        one.StoreKv(Random(random, Prompt * KvHeads * HeadDim), Random(random, Prompt * KvHeads * HeadDim), batch, storage, 0);
        var last = new ForwardBatch([0], [Prompt - 1], [0], tables, [0]);
        var lastQuery = q.AsSpan((Prompt - 1) * Heads * HeadDim).ToArray();
        var (wide, narrow) = (new float[Heads * HeadDim], new float[Heads * HeadDim]);
        one.Attention(lastQuery, last, storage, 0, Heads, wide); // span 8
        eight.Attention(lastQuery, last, storage, 0, Heads, narrow); // span 1
        Assert.Equal(wide, narrow);
        var (prefillOne, prefillEight) = (new float[q.Length], new float[q.Length]);
        one.Attention(q, batch, storage, 0, Heads, prefillOne);
        eight.Attention(q, batch, storage, 0, Heads, prefillEight);
        Assert.Equal(prefillOne, prefillEight);
        Assert.Equal(wide, prefillOne.AsSpan((Prompt - 1) * Heads * HeadDim).ToArray());
    }

    private static float[] Random(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * 4).ToArray();
}
