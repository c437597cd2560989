namespace Fathom.Engine.Constraints;

/// <summary>
/// The tokens made only of one <see cref="ContentClass"/>'s characters, by length in characters, over one vocabulary's
/// trie. Where the grammar lets any k characters of the class follow, every class token of at most k characters is
/// allowed: <see cref="UpTo"/>[k] is that set, and the trie walk skips subtrees whose tokens all are in it.
/// Built once per vocabulary and class (see <see cref="TokenTrie.ClassTokens"/>); immutable.
/// </summary>
internal sealed class ContentClassTokens
{
    private ContentClassTokens(int maxLength, ulong[][] upTo, int[] subtreeMaxLength, ResidualTrie residual)
    {
        MaxLength = maxLength;
        UpTo = upTo;
        SubtreeMaxLength = subtreeMaxLength;
        Residual = residual;
    }

    /// <summary>The longest class token, in characters (0 when the class has none).</summary>
    public int MaxLength { get; }

    /// <summary>UpTo[k]: the class tokens of at most k characters, for k in 0..<see cref="MaxLength"/>.</summary>
    public ulong[][] UpTo { get; }

    /// <summary>Per trie node: the longest token in its subtree, or -1 if some token there is not a class token.</summary>
    public int[] SubtreeMaxLength { get; }

    /// <summary>The trie without the subtrees made only of class tokens: what an exhaustive run's mask still walks.</summary>
    public ResidualTrie Residual { get; }

    public static ContentClassTokens Build(TokenTrie trie, byte[]?[] bytes, ContentClass set, int words)
    {
        int[] tokens = trie.Tokens;
        int[] tokenStart = trie.TokenStart;
        int[] subtreeEnd = trie.SubtreeEnd;
        int nodes = trie.NodeCount;

        // Length per token position in Tokens (-1 outside the class).
        var length = new int[tokens.Length];
        int maxLength = 0;
        for (int k = 0; k < tokens.Length; k++)
        {
            length[k] = LengthIn(bytes[tokens[k]]!, set);
            maxLength = Math.Max(maxLength, length[k]);
        }

        var byLength = new ulong[maxLength + 1][];
        byLength[0] = new ulong[words];
        for (int k = 0; k < tokens.Length; k++)
        {
            if (length[k] > 0)
            {
                byLength[length[k]] ??= new ulong[words];
                byLength[length[k]][tokens[k] >> 6] |= 1UL << (tokens[k] & 63);
            }
        }

        for (int m = 1; m <= maxLength; m++)
        {
            var sum = (ulong[])byLength[m - 1].Clone();
            if (byLength[m] is { } own)
            {
                for (int w = 0; w < words; w++)
                {
                    sum[w] |= own[w];
                }
            }

            byLength[m] = sum;
        }

        // Children follow their parent in depth-first order, so a backward pass sees every child before its parent.
        var subtree = new int[nodes];
        for (int i = nodes - 1; i >= 0; i--)
        {
            int best = 0;
            for (int t = tokenStart[i]; t < tokenStart[i + 1] && best >= 0; t++)
            {
                best = length[t] < 0 ? -1 : Math.Max(best, length[t]);
            }

            for (int child = i + 1; child < subtreeEnd[i] && best >= 0; child = subtreeEnd[child])
            {
                best = subtree[child] < 0 ? -1 : Math.Max(best, subtree[child]);
            }

            subtree[i] = best;
        }

        return new ContentClassTokens(maxLength, byLength, subtree, ResidualTrie.Build(trie, subtree, length));
    }

    // Characters in the class, or -1 if some byte is outside it (or the bytes are not whole UTF-8 characters).
    private static int LengthIn(byte[] text, ContentClass set)
    {
        int count = 0;
        bool nonAscii = false;
        foreach (byte b in text)
        {
            if (b < 0x80)
            {
                if (!set.Contains(b))
                {
                    return -1;
                }

                count++;
            }
            else
            {
                nonAscii = true;
                if ((b & 0xC0) != 0x80)
                {
                    count++;
                }
            }
        }

        if (nonAscii && (!set.NonAscii || !System.Text.Unicode.Utf8.IsValid(text)))
        {
            return -1;
        }

        return count;
    }
}
