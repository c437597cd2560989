using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>Our tokenizers against llama.cpp's on strings beyond its own vectors, for every shared vocabulary.</summary>
public sealed class LlamaCppComparisonTests
{
    public static readonly TheoryData<string> Files =
    [
        "vocab/ggml-vocab-llama-spm.gguf",
        "vocab/ggml-vocab-deepseek-llm.gguf",
        "vocab/ggml-vocab-deepseek-coder.gguf",
        "vocab/ggml-vocab-gpt-2.gguf",
        SharedFixtures.Stories260K,
        SharedFixtures.LlamaTinyRandom,
    ];

    internal static readonly string[] Strings =
    [
        "Once upon a time",
        "深度求索是一家人工智能公司，专注于通用人工智能的研究。",
        "日本語のテキストと한국어 텍스트, mixed with English.",
        "Emoji: 🦙🚀 😁👍🏽 👨‍👩‍👧‍👦 🇫🇷 and astral 𝒜𝒷𝒸 𐐀𐐨 digits 𝟘𝟙𝟚",
        "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
        "for (int i = 0; i < 10; ++i) { sum += a[i] * b[i]; } // C++ 1234567 0x1F",
        "          lots   of\t\t whitespace \n\n\n   \r\n  trailing    ",
        "                                                                                        x",
        "Ünïcödé àccents, Ελληνικά, русский текст, العربية, हिन्दी, ไทย",
        "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
        "Special texts: <s> </s> <unk> <|endoftext|> <|eot_id|> <｜begin▁of▁sentence｜> <｜User｜>",
        "numbers 3.14159 1,000,000 2024-06-01 12:30:45 ١٢٣",
        "\u00a0non-breaking\u2003em-space\u3000ideographic space\u200bzero-width",
        "",
        " ",
        "\n",
        "a",
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public void Encoding_matches_llama_cpp_with_and_without_bos_and_special_parsing(string file)
    {
        var path = SharedFixtures.Default.GetPath(file);
        var tokenizer = VocabularyFixtures.Get(file);
        using var reference = LlamaCppReference.Load(path);

        var failures = new List<string>();
        foreach (var text in Strings)
        {
            foreach (var (bos, special) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                var expected = reference.Tokenize(text, bos, special);
                var actual = tokenizer.Encode(text, bos, special);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    failures.Add($"bos={bos} special={special} '{text}': llama.cpp [{string.Join(' ', expected)}], ours [{string.Join(' ', actual)}]");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_token_piece_matches_llama_cpp(string file)
    {
        var path = SharedFixtures.Default.GetPath(file);
        var tokenizer = VocabularyFixtures.Get(file);
        using var reference = LlamaCppReference.Load(path);

        var failures = new List<string>();
        for (var id = 0; id < tokenizer.Count && failures.Count < 20; id++)
        {
            foreach (var special in new[] { false, true })
            {
                var expected = reference.Piece(id, special);
                var actual = tokenizer.GetPiece(id, special).ToArray();
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    failures.Add($"token {id} special={special}: llama.cpp {Convert.ToHexString(expected)}, ours {Convert.ToHexString(actual)}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}
