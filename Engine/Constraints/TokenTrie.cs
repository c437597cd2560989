namespace Fathom.Engine.Constraints;

/// <summary>
/// The tokens' bytes as a trie laid out in depth-first order: node i has a byte, a depth (1 for a first byte) and the index
/// just past its subtree, so a walk that finds a prefix dead skips every token under it with one jump.
/// </summary>
internal sealed class TokenTrie
{
    private TokenTrie(byte[] nodeByte, int[] depth, int[] subtreeEnd, int[] tokenStart, int[] tokens, int maxDepth, byte[]?[] bytes, int words)
    {
        // Tokens under a node are contiguous in Tokens, so a prefix count of "unsafe" tokens answers per subtree.
        var unsafeBefore = new int[tokens.Length + 1];
        SafeStringTokens = new ulong[words];
        for (int k = 0; k < tokens.Length; k++)
        {
            bool safe = IsSafeStringText(bytes[tokens[k]]!);
            unsafeBefore[k + 1] = unsafeBefore[k] + (safe ? 0 : 1);
            if (safe)
            {
                SafeStringTokens[tokens[k] >> 6] |= 1UL << (tokens[k] & 63);
            }
        }

        SafeSubtree = new bool[nodeByte.Length];
        for (int i = 0; i < nodeByte.Length; i++)
        {
            SafeSubtree[i] = unsafeBefore[tokenStart[subtreeEnd[i]]] == unsafeBefore[tokenStart[i]];
        }

        NodeByte = nodeByte;
        Depth = depth;
        SubtreeEnd = subtreeEnd;
        TokenStart = tokenStart;
        Tokens = tokens;
        MaxDepth = maxDepth;
    }

    public byte[] NodeByte { get; }

    public int[] Depth { get; }

    public int[] SubtreeEnd { get; }

    /// <summary>Tokens ending at node i are Tokens[TokenStart[i]..TokenStart[i+1]].</summary>
    public int[] TokenStart { get; }

    public int[] Tokens { get; }

    public int MaxDepth { get; }

    /// <summary>
    /// Tokens that are whole characters JSON strings may hold unescaped (valid UTF-8, no control character, quote or
    /// backslash): inside free string content every one of them is allowed, so masks there start from this set.
    /// </summary>
    public ulong[] SafeStringTokens { get; }

    /// <summary>Per node: every token in its subtree is in <see cref="SafeStringTokens"/> (the walk can skip it there).</summary>
    public bool[] SafeSubtree { get; }

    private static bool IsSafeStringText(byte[] text)
    {
        foreach (byte b in text)
        {
            if (b < 0x20 || b == (byte)'"' || b == (byte)'\\')
            {
                return false;
            }
        }

        return System.Text.Unicode.Utf8.IsValid(text);
    }

    public int NodeCount => NodeByte.Length;

    public static TokenTrie Build(byte[]?[] bytes, List<int> tokenIds, int words)
    {
        tokenIds.Sort((a, b) =>
        {
            int c = bytes[a].AsSpan().SequenceCompareTo(bytes[b]);
            return c != 0 ? c : a.CompareTo(b);
        });

        var nodeByte = new List<byte>();
        var depth = new List<int>();
        var subtreeEnd = new List<int>();
        var tokenStart = new List<int>();
        var tokens = new List<int>();
        var path = new List<int>(); // node index per depth-1 on the current path
        byte[] previous = [];
        int maxDepth = 0;
        foreach (int id in tokenIds)
        {
            byte[] current = bytes[id]!;
            int common = current.AsSpan().CommonPrefixLength(previous);
            while (path.Count > common)
            {
                subtreeEnd[path[^1]] = nodeByte.Count;
                path.RemoveAt(path.Count - 1);
            }

            for (int d = common; d < current.Length; d++)
            {
                path.Add(nodeByte.Count);
                nodeByte.Add(current[d]);
                depth.Add(d + 1);
                subtreeEnd.Add(-1);
                tokenStart.Add(tokens.Count);
            }

            // Tokens are appended in node order, so a node's tokens are the ones added while it is the newest node.
            tokens.Add(id);
            maxDepth = Math.Max(maxDepth, current.Length);
            previous = current;
        }

        while (path.Count > 0)
        {
            subtreeEnd[path[^1]] = nodeByte.Count;
            path.RemoveAt(path.Count - 1);
        }

        tokenStart.Add(tokens.Count);
        return new TokenTrie([.. nodeByte], [.. depth], [.. subtreeEnd], [.. tokenStart], [.. tokens], maxDepth, bytes, words);
    }
}
