using System.Text;
using Fathom.Engine.Constraints;

namespace Fathom.Engine.Tests.Constraints;

/// <summary>
/// Generates output by sampling uniformly among the tokens a matcher allows (fixed seed). After <c>freeSteps</c> it
/// steers to the nearest end — the end token when allowed, else the one-byte token that starts a shortest way to an end —
/// still only among allowed tokens, so whatever it produces is what a model could have produced under the constraint.
/// </summary>
internal static class RandomWalk
{
    public static (string Text, int Steps) Generate(Grammar grammar, ConstraintVocabulary vocabulary, int seed, int freeSteps = 40, int maxSteps = 4000)
    {
        var random = new Random(seed);
        var matcher = new GrammarMatcher(grammar, vocabulary);
        var mask = new ulong[(vocabulary.Size + 63) / 64];
        var output = new List<byte>();
        var allowed = new List<int>();
        var singleByteTokens = SingleByteTokens(vocabulary);
        for (int step = 0; step < maxSteps; step++)
        {
            matcher.FillNextTokenMask(mask);
            allowed.Clear();
            for (int id = 0; id < vocabulary.Size; id++)
            {
                if ((mask[id >> 6] & (1UL << (id & 63))) != 0)
                {
                    allowed.Add(id);
                }
            }

            Assert.NotEmpty(allowed); // never an empty mask before the end
            int token = step < freeSteps ? allowed[random.Next(allowed.Count)] : Steer(matcher, vocabulary, allowed, singleByteTokens);
            Assert.Contains(token, allowed);
            Assert.True(matcher.Accept(token), $"an allowed token {token} was refused");
            if (vocabulary.IsEnd[token])
            {
                Assert.True(matcher.IsComplete);
                return (Encoding.UTF8.GetString([.. output]), step + 1);
            }

            output.AddRange(vocabulary.BytesOf(token).ToArray());
        }

        Assert.Fail($"no end after {maxSteps} tokens: {Encoding.UTF8.GetString([.. output])}");
        return default;
    }

    private static Dictionary<byte, int> SingleByteTokens(ConstraintVocabulary vocabulary)
    {
        var tokens = new Dictionary<byte, int>();
        for (int id = 0; id < vocabulary.Size; id++)
        {
            if (vocabulary.IsWalkable(id) && vocabulary.BytesOf(id) is [byte b])
            {
                tokens.TryAdd(b, id);
            }
        }

        return tokens;
    }

    // Breadth-first over the automaton's configurations, one byte (with a one-byte token) at a time.
    private static int Steer(GrammarMatcher matcher, ConstraintVocabulary vocabulary, List<int> allowed, Dictionary<byte, int> singleByteTokens)
    {
        foreach (int id in allowed)
        {
            if (vocabulary.IsEnd[id])
            {
                return id;
            }
        }

        var tables = matcher.Tables;
        var queue = new Queue<(int Config, int First)>();
        var seen = new HashSet<int> { matcher.Configuration };
        queue.Enqueue((matcher.Configuration, -1));
        while (queue.TryDequeue(out var item) && seen.Count < 500_000)
        {
            if (item.First >= 0 && tables.CanEnd(item.Config))
            {
                return item.First;
            }

            foreach (var (b, token) in singleByteTokens)
            {
                int next = tables.Step(item.Config, b);
                if (next >= 0 && seen.Add(next))
                {
                    queue.Enqueue((next, item.First >= 0 ? item.First : token));
                }
            }
        }

        Assert.Fail("no way to an end found");
        return -1;
    }
}
