using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Tests.Tokenization;

public sealed class PreTokenizerTests
{
    // Characters from every class the expression distinguishes: contractions, letters, digits, spaces, line breaks,
    // punctuation, non-ASCII letters/digits/spaces, marks and astral characters.
    private static readonly string[] Pool =
    [
        "'", "s", "S", "t", "re", "RE", "ve", "m", "ll", "LL", "d", "D", "a", "Z", "é", "深", "ß", "1", "23", "٣", "²",
        " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", ".", ",", "!", "?", "-", "_", "(", ")", "\"", "#", "$",
        "🦙", "𝒜", "𝟙", "\u0301", "\u200b", "x", "hello", "World", "'s", "'ll", " '", "''",
    ];

    [Fact]
    public void The_hand_written_llama3_splitter_matches_the_expression_on_random_text()
    {
        var fast = PreTokenizer.ForName("llama-bpe");
        Assert.True(fast.UseHandWritten);
        var reference = fast.WithExpressionsOnly();
        var random = new Random(1234);
        for (var round = 0; round < 20000; round++)
        {
            var parts = random.Next(1, 12);
            var text = string.Concat(Enumerable.Range(0, parts).Select(_ => Pool[random.Next(Pool.Length)]));
            var expected = new List<(int, int)>();
            var actual = new List<(int, int)>();
            reference.Split(text, expected);
            fast.Split(text, actual);
            Assert.True(expected.SequenceEqual(actual), $"'{text}': expression [{string.Join(' ', expected)}], hand-written [{string.Join(' ', actual)}]");
        }
    }

    [Fact]
    public void Words_cover_the_text_without_gaps_or_overlaps()
    {
        foreach (var name in new[] { "llama-bpe", "deepseek-llm", "deepseek-coder", "gpt-2", "default" })
        {
            var pre = PreTokenizer.ForName(name);
            foreach (var text in LlamaCppComparisonTests.Strings)
            {
                var words = new List<(int Start, int Length)>();
                pre.Split(text, words);
                var at = 0;
                foreach (var (start, length) in words)
                {
                    Assert.Equal(at, start);
                    Assert.True(length > 0);
                    at += length;
                }
                Assert.Equal(text.Length, at);
            }
        }
    }
}
