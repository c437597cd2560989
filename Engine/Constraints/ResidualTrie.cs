namespace Fathom.Engine.Constraints;

/// <summary>
/// The part of a <see cref="TokenTrie"/> a <see cref="ContentClass"/> does not settle: the nodes with some non-class token
/// below them, in the same depth-first layout, holding only their non-class tokens. Where a run of k class characters is
/// exhaustive (class tokens of at most k characters are allowed, longer ones refused), the mask is the class tokens up to
/// k plus what walking this trie allows: a counted string's mask walks the few thousand tokens that close, escape or leave
/// the class, not the whole vocabulary. Immutable.
/// </summary>
internal sealed class ResidualTrie
{
    private ResidualTrie(byte[] nodeByte, int[] depth, int[] subtreeEnd, int[] tokenStart, int[] tokens)
    {
        NodeByte = nodeByte;
        Depth = depth;
        SubtreeEnd = subtreeEnd;
        TokenStart = tokenStart;
        Tokens = tokens;
    }

    public byte[] NodeByte { get; }

    public int[] Depth { get; }

    public int[] SubtreeEnd { get; }

    /// <summary>Non-class tokens ending at node i are Tokens[TokenStart[i]..TokenStart[i+1]].</summary>
    public int[] TokenStart { get; }

    public int[] Tokens { get; }

    public int NodeCount => NodeByte.Length;

    /// <param name="trie">The whole trie.</param>
    /// <param name="subtreeMaxLength">Per trie node: the longest class token below it, or -1 if some token there is not a class token.</param>
    /// <param name="classLength">Per position in <see cref="TokenTrie.Tokens"/>: the token's length in class characters, or -1 outside the class.</param>
    public static ResidualTrie Build(TokenTrie trie, int[] subtreeMaxLength, int[] classLength)
    {
        int nodes = trie.NodeCount;

        // rank[i]: residual nodes before trie node i. A residual node's ancestors are residual too (their subtree holds
        // the same non-class token), so keeping residual nodes in trie order is again a depth-first layout.
        var rank = new int[nodes + 1];
        for (int i = 0; i < nodes; i++)
        {
            rank[i + 1] = rank[i] + (subtreeMaxLength[i] < 0 ? 1 : 0);
        }

        int count = rank[nodes];
        var nodeByte = new byte[count];
        var depth = new int[count];
        var subtreeEnd = new int[count];
        var tokenStart = new int[count + 1];
        var tokens = new List<int>();
        for (int i = 0; i < nodes; i++)
        {
            if (subtreeMaxLength[i] >= 0)
            {
                continue;
            }

            int r = rank[i];
            nodeByte[r] = trie.NodeByte[i];
            depth[r] = trie.Depth[i];
            subtreeEnd[r] = rank[trie.SubtreeEnd[i]];
            tokenStart[r] = tokens.Count;
            for (int t = trie.TokenStart[i]; t < trie.TokenStart[i + 1]; t++)
            {
                if (classLength[t] < 0)
                {
                    tokens.Add(trie.Tokens[t]);
                }
            }
        }

        tokenStart[count] = tokens.Count;
        return new ResidualTrie(nodeByte, depth, subtreeEnd, tokenStart, [.. tokens]);
    }
}
