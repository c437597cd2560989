using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>llama.cpp's own tokenizer test vectors (test-tokenizer-0): no BOS, special tokens not parsed.</summary>
public sealed class LlamaCppVectorTests
{
    [Theory]
    [InlineData("vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-llama-spm.gguf.inp")]
    [InlineData("vocab/ggml-vocab-deepseek-llm.gguf", "vocab/ggml-vocab-deepseek-llm.gguf.inp")]
    [InlineData("vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-deepseek-coder.gguf.inp")]
    [InlineData("vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-gpt-2.gguf.inp")]
    [InlineData("llama3", "llama3/ggml-vocab-llama-bpe.gguf.inp")]
    public void Every_vector_tokenizes_exactly_as_llama_cpp(string vocabulary, string vectors)
    {
        var tokenizer = VocabularyFixtures.Get(vocabulary);
        var cases = VocabularyFixtures.ReadVectors(vectors);
        Assert.True(cases.Count >= 40, $"only {cases.Count} vectors");

        var failures = new List<string>();
        foreach (var (text, expected) in cases)
        {
            var actual = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
            if (!actual.AsSpan().SequenceEqual(expected))
            {
                failures.Add($"'{Escape(text)}': expected [{string.Join(' ', expected)}], got [{string.Join(' ', actual)}]");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count}/{cases.Count} differ:\n" + string.Join('\n', failures));
    }

    [Theory]
    [InlineData("vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-llama-spm.gguf.inp")]
    [InlineData("vocab/ggml-vocab-deepseek-llm.gguf", "vocab/ggml-vocab-deepseek-llm.gguf.inp")]
    [InlineData("vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-deepseek-coder.gguf.inp")]
    [InlineData("vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-gpt-2.gguf.inp")]
    [InlineData("llama3", "llama3/ggml-vocab-llama-bpe.gguf.inp")]
    public void Decoding_the_vectors_gives_back_the_text(string vocabulary, string vectors)
    {
        var tokenizer = VocabularyFixtures.Get(vocabulary);
        foreach (var (text, expected) in VocabularyFixtures.ReadVectors(vectors))
        {
            var decoded = tokenizer.Decode(expected);
            // SentencePiece drops the space it added in front; clean-up passes may remove spaces before punctuation.
            var reference = text;
            if (tokenizer.CleanSpaces)
            {
                Assert.Equal(Squash(reference), Squash(decoded));
            }
            else
            {
                Assert.Equal(reference, decoded);
            }
        }
    }

    private static string Squash(string s) => s.Replace(" ", "");

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t");
}
