using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>
/// A stand-in model whose "K/V" is the token id itself: each step writes every token into its slot through the
/// sequence's block table, and a logits row is a deterministic function of the history read back through the
/// block table. Wrong block tables, missing copy-on-write or bad prefix hits therefore change the output.
/// </summary>
internal sealed class FakeModelRunner : IModelRunner
{
    private const int Unwritten = -1;
    private readonly int[][] _slots; // (n_blocks, block_size) token id per KV slot

    public FakeModelRunner(int totalBlocks, int blockSize, int vocabSize)
    {
        VocabSize = vocabSize;
        BlockSize = blockSize;
        _slots = [.. Enumerable.Range(0, totalBlocks).Select(_ => Enumerable.Repeat(Unwritten, blockSize).ToArray())];
    }

    public int VocabSize { get; }

    public int BlockSize { get; }

    public List<SchedulerOutput> Steps { get; } = [];

    public int CopiesPerformed { get; private set; }

    public void Execute(SchedulerOutput batch, Span<float> logits)
    {
        Steps.Add(batch);
        foreach (var copy in batch.BlockCopies)
        {
            _slots[copy.Source].CopyTo(_slots[copy.Destination], 0);
            CopiesPerformed++;
        }

        Assert.Empty(batch.BlockLoads);
        for (int i = 0; i < batch.TokenIds.Length; i++)
        {
            var table = batch.Sequences[batch.SequenceIndices[i]].BlockTable;
            int position = batch.Positions[i];
            _slots[table[position / BlockSize]][position % BlockSize] = batch.TokenIds[i];
        }

        for (int row = 0; row < batch.LogitsIndices.Length; row++)
        {
            int flat = batch.LogitsIndices[row];
            var table = batch.Sequences[batch.SequenceIndices[flat]].BlockTable;
            var history = new int[batch.Positions[flat] + 1];
            for (int p = 0; p < history.Length; p++)
            {
                history[p] = _slots[table[p / BlockSize]][p % BlockSize];
                Assert.NotEqual(Unwritten, history[p]);
            }

            FillLogits(history, logits.Slice(row * VocabSize, VocabSize));
        }
    }

    /// <summary>The "model": logits from a hash of the whole history, with one clear favourite.</summary>
    public static void FillLogits(ReadOnlySpan<int> history, Span<float> row)
    {
        ulong h = 14695981039346656037UL;
        foreach (int t in history)
        {
            h = unchecked((h ^ (uint)t) * 1099511628211UL);
        }

        for (int v = 0; v < row.Length; v++)
        {
            row[v] = (float)((h >> (v % 29)) & 7) * 0.25f;
        }

        row[(int)(h % (ulong)row.Length)] = 3f;
    }

    /// <summary>What greedy decoding of the fake model gives, computed directly.</summary>
    public static List<int> GreedyReference(IReadOnlyList<int> prompt, int maxTokens, int vocabSize, ICollection<int>? stopIds = null)
    {
        var history = prompt.ToList();
        var output = new List<int>();
        var row = new float[vocabSize];
        while (output.Count < maxTokens)
        {
            FillLogits(history.ToArray(), row);
            int next = Array.IndexOf(row, row.Max());
            output.Add(next);
            history.Add(next);
            if (stopIds?.Contains(next) == true)
            {
                break;
            }
        }

        return output;
    }
}
