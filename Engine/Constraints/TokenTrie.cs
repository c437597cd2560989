namespace Fathom.Engine.Constraints;

/// <summary>
/// The tokens' bytes as a trie laid out in depth-first order: node i has a byte, a depth (1 for a first byte) and the index
/// just past its subtree, so a walk that finds a prefix dead skips every token under it with one jump.
/// </summary>
internal sealed class TokenTrie
{
    private readonly byte[]?[] _bytes;
    private readonly int _words;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ContentClass, ContentClassTokens> _classTokens = new();

    private TokenTrie(byte[] nodeByte, int[] depth, int[] subtreeEnd, int[] tokenStart, int[] tokens, int maxDepth, byte[]?[] bytes, int words)
    {
        NodeByte = nodeByte;
        Depth = depth;
        SubtreeEnd = subtreeEnd;
        TokenStart = tokenStart;
        Tokens = tokens;
        MaxDepth = maxDepth;
        _bytes = bytes;
        _words = words;

        // Free JSON string content is the most common class: build it with the vocabulary, not on some grammar's first mask.
        ClassTokens(ContentClass.JsonString);
    }

    public byte[] NodeByte { get; }

    public int[] Depth { get; }

    public int[] SubtreeEnd { get; }

    /// <summary>Tokens ending at node i are Tokens[TokenStart[i]..TokenStart[i+1]].</summary>
    public int[] TokenStart { get; }

    public int[] Tokens { get; }

    public int MaxDepth { get; }

    /// <summary>Classes built per trie before further ones are refused (each costs about MaxLength × Size/8 bytes).</summary>
    public const int MaxClasses = 64;

    /// <summary>The tokens of class <paramref name="set"/>, built on first use and shared by every grammar; null past <see cref="MaxClasses"/>.</summary>
    public ContentClassTokens? ClassTokens(ContentClass set)
    {
        if (_classTokens.TryGetValue(set, out var known))
        {
            return known;
        }

        if (_classTokens.Count >= MaxClasses)
        {
            return null;
        }

        return _classTokens.GetOrAdd(set, key => ContentClassTokens.Build(this, _bytes, key, _words));
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
