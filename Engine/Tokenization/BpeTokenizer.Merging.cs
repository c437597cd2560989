namespace Fathom.Engine.Tokenization;

/// <summary>The merge loop of <see cref="BpeTokenizer"/>, shared by its byte-level and character-level words.</summary>
internal sealed partial class BpeTokenizer
{
    /// <summary>Merges the symbols <paramref name="initial"/> (piece ids) and appends the resulting tokens.</summary>
    private void MergePieces(Span<int> initial, List<int> output)
    {
        if (initial.Length <= MaxScanLength)
        {
            MergeShort(initial, output);
            return;
        }

        var n = initial.Length;
        var piece = initial.ToArray();
        var prev = new int[n];
        var next = new int[n];
        for (var i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<Bigram, Bigram>(BigramOrder.Instance);
        for (var i = 1; i < n; i++)
        {
            AddBigram(i - 1, i);
        }

        while (queue.Count > 0)
        {
            var bigram = queue.Dequeue();
            var left = bigram.Left;
            var right = bigram.Right;
            // Skip a pair one of whose symbols has changed since it was queued (piece -1: merged away).
            if (piece[left] != bigram.LeftPiece || piece[right] != bigram.RightPiece)
            {
                continue;
            }
            piece[left] = bigram.Merged;
            piece[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }
            AddBigram(prev[left], left);
            AddBigram(left, next[left]);
        }

        for (var i = 0; i != -1; i = next[i])
        {
            Emit(piece[i], output);
        }

        void AddBigram(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }
            if (TryMerge(piece[left], piece[right], out var merge))
            {
                var bigram = new Bigram(left, right, piece[left], piece[right], merge.Rank, merge.Merged);
                queue.Enqueue(bigram, bigram);
            }
        }
    }

    /// <summary>
    /// The same merges as the queue in <see cref="MergePieces"/>, found by scanning: for a short word a linear scan for the
    /// lowest (rank, position) pair is cheaper than a heap and allocates nothing.
    /// </summary>
    private void MergeShort(Span<int> piece, List<int> output)
    {
        var n = piece.Length;
        if (n == 0)
        {
            return;
        }
        Span<int> rank = stackalloc int[n];
        Span<int> merged = stackalloc int[n];
        for (var i = 0; i + 1 < n; i++)
        {
            Pair(piece, rank, merged, i);
        }
        rank[n - 1] = int.MaxValue;

        while (n > 1)
        {
            var best = 0;
            for (var i = 1; i < n - 1; i++)
            {
                if (rank[i] < rank[best])
                {
                    best = i;
                }
            }
            if (rank[best] == int.MaxValue)
            {
                break;
            }
            piece[best] = merged[best];
            var tail = n - best - 2;
            piece.Slice(best + 2, tail).CopyTo(piece[(best + 1)..]);
            rank.Slice(best + 2, tail).CopyTo(rank[(best + 1)..]);
            merged.Slice(best + 2, tail).CopyTo(merged[(best + 1)..]);
            n--;
            rank[n - 1] = int.MaxValue;
            if (best > 0)
            {
                Pair(piece, rank, merged, best - 1);
            }
            if (best < n - 1)
            {
                Pair(piece, rank, merged, best);
            }
        }

        for (var i = 0; i < n; i++)
        {
            Emit(piece[i], output);
        }
    }

    private void Pair(Span<int> piece, Span<int> rank, Span<int> merged, int i)
    {
        if (TryMerge(piece[i], piece[i + 1], out var merge))
        {
            rank[i] = merge.Rank;
            merged[i] = merge.Merged;
        }
        else
        {
            rank[i] = int.MaxValue;
        }
    }

    private void Emit(int id, List<int> output)
    {
        if (id < Texts.Length)
        {
            output.Add(id);
            return;
        }
        // A merged piece that is not a token: llama.cpp spells it with single-character tokens where they exist.
        foreach (var c in _pieceTexts[id])
        {
            if (c < 0x80 && IdsBySpan.TryGetValue([c], out var single))
            {
                output.Add(single);
            }
        }
    }

    private bool TryMerge(int left, int right, out Merge merge)
    {
        if (_merges is not null)
        {
            return _merges.TryGetValue(Key(left, right), out merge);
        }

        // tiktoken: a pair merges when the concatenation is a normal token; its rank is the token id.
        var a = _pieceTexts[left];
        var b = _pieceTexts[right];
        var length = a.Length + b.Length;
        var joined = length <= 256 ? stackalloc char[length] : new char[length];
        a.CopyTo(joined);
        b.CopyTo(joined[a.Length..]);
        if (IdsBySpan.TryGetValue(joined, out var id) && (Attributes[id] & TokenAttributes.Normal) != 0)
        {
            merge = new Merge(id, id);
            return true;
        }
        merge = default;
        return false;
    }

    private readonly record struct Merge(int Rank, int Merged);

    /// <summary>
    /// Hashes a (left, right) pair key by multiplying, because <see cref="long.GetHashCode"/> (the halves XORed)
    /// collides for most pairs of small ids.
    /// </summary>
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(long x, long y) => x == y;

        public int GetHashCode(long obj) => (int)(((ulong)obj * 0x9E3779B97F4A7C15UL) >> 32);
    }

    private readonly record struct Bigram(int Left, int Right, int LeftPiece, int RightPiece, int Rank, int Merged);

    /// <summary>Lowest rank first; among equal ranks the leftmost pair.</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            var byRank = x.Rank.CompareTo(y.Rank);
            return byRank != 0 ? byRank : x.Left.CompareTo(y.Left);
        }
    }
}
