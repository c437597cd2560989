using System.Numerics;

namespace Fathom.Engine.Sampling;

/// <summary>Bitmasks over a vocabulary: bit <c>i % 64</c> of word <c>i / 64</c> stands for token <c>i</c>.</summary>
public static class TokenMask
{
    /// <summary>Words a mask over <paramref name="vocabSize"/> tokens takes.</summary>
    public static int WordsFor(int vocabSize) => (vocabSize + 63) / 64;

    /// <summary>Whether <paramref name="tokenId"/> is set in <paramref name="mask"/> (false beyond its end).</summary>
    public static bool IsAllowed(ReadOnlySpan<ulong> mask, int tokenId) =>
        (uint)(tokenId >> 6) < (uint)mask.Length && (mask[tokenId >> 6] & (1UL << (tokenId & 63))) != 0;

    /// <summary>Sets <paramref name="tokenId"/> in <paramref name="mask"/>.</summary>
    public static void Allow(Span<ulong> mask, int tokenId) => mask[tokenId >> 6] |= 1UL << (tokenId & 63);

    /// <summary>Tokens set in <paramref name="mask"/>.</summary>
    public static int Count(ReadOnlySpan<ulong> mask)
    {
        int count = 0;
        foreach (ulong word in mask)
        {
            count += BitOperations.PopCount(word);
        }

        return count;
    }

    /// <summary>Sets every logit whose token the mask does not allow to -∞ (tokens beyond the mask are not allowed).</summary>
    /// <param name="logits">The row to mask. // (n_vocab)</param>
    /// <param name="allowed">The mask.</param>
    public static void Apply(Span<float> logits, ReadOnlySpan<ulong> allowed)
    {
        for (int word = 0, start = 0; start < logits.Length; word++, start += 64)
        {
            int length = Math.Min(64, logits.Length - start);
            ulong bits = word < allowed.Length ? allowed[word] : 0;
            if (bits == ulong.MaxValue)
            {
                continue; // the common case inside free text: the whole word is allowed
            }

            var chunk = logits.Slice(start, length);
            if (bits == 0)
            {
                chunk.Fill(float.NegativeInfinity);
                continue;
            }

            for (int i = 0; i < chunk.Length; i++)
            {
                if ((bits & (1UL << i)) == 0)
                {
                    chunk[i] = float.NegativeInfinity;
                }
            }
        }
    }

    /// <summary>The first token allowed, or -1 when none is.</summary>
    public static int First(ReadOnlySpan<ulong> allowed, int vocabSize)
    {
        for (int word = 0; word < allowed.Length; word++)
        {
            if (allowed[word] != 0)
            {
                int token = (word * 64) + BitOperations.TrailingZeroCount(allowed[word]);
                return token < vocabSize ? token : -1;
            }
        }

        return -1;
    }
}
