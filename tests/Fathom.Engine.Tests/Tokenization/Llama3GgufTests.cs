using Fathom.Gguf;
using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>
/// The Llama 3 vocabulary from tokenizer.model, with derived merges, written as a vocab-only GGUF by our writer:
/// llama.cpp loads it, and its tokenizer agrees with ours (the llama.cpp vectors and our extra strings).
/// </summary>
public sealed class Llama3GgufTests : IClassFixture<Llama3GgufTests.Llama3Gguf>
{
    private readonly Llama3Gguf _gguf;

    public Llama3GgufTests(Llama3Gguf gguf) => _gguf = gguf;

    [Fact]
    public void Derived_merges_tokenize_exactly_like_merging_by_rank()
    {
        var byRank = VocabularyFixtures.Get("llama3");
        var byMerges = GgufTokenizerVocabulary.CreateTokenizer(_gguf.Path);
        var texts = VocabularyFixtures.ReadVectors("llama3/ggml-vocab-llama-bpe.gguf.inp").Select(c => c.Text)
            .Concat(LlamaCppComparisonTests.Strings);
        foreach (var text in texts)
        {
            Assert.Equal(byRank.Encode(text), byMerges.Encode(text));
        }
    }

    [Fact]
    public void Llama_cpp_agrees_on_the_vectors_and_extra_strings_with_all_flags()
    {
        var ours = VocabularyFixtures.Get("llama3");
        using var reference = LlamaCppReference.Load(_gguf.Path);
        var texts = VocabularyFixtures.ReadVectors("llama3/ggml-vocab-llama-bpe.gguf.inp").Select(c => c.Text)
            .Concat(LlamaCppComparisonTests.Strings)
            .Append("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|python_tag|>x<|eom_id|>");

        var failures = new List<string>();
        foreach (var text in texts)
        {
            foreach (var (bos, special) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                var expected = reference.Tokenize(text, bos, special);
                var actual = ours.Encode(text, bos, special);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    failures.Add($"bos={bos} special={special} '{text}': llama.cpp [{string.Join(' ', expected)}], ours [{string.Join(' ', actual)}]");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Llama_cpp_agrees_on_every_piece()
    {
        var ours = VocabularyFixtures.Get("llama3");
        using var reference = LlamaCppReference.Load(_gguf.Path);
        for (var id = 0; id < ours.Count; id += 7)
        {
            Assert.Equal(reference.Piece(id, special: true), ours.GetPiece(id, renderSpecial: true).ToArray());
        }
        for (var id = Llama3Vocabulary.BaseTokenCount; id < ours.Count; id++)
        {
            Assert.Equal(reference.Piece(id, special: false), ours.GetPiece(id).ToArray());
            Assert.Equal(reference.Piece(id, special: true), ours.GetPiece(id, renderSpecial: true).ToArray());
        }
    }

    /// <summary>Writes the GGUF once for the class (deriving 128k merges takes a moment).</summary>
    public sealed class Llama3Gguf : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("fathom-llama3-vocab-").FullName;

        public Llama3Gguf()
        {
            var vocabulary = Llama3Vocabulary.Load(SharedFixtures.Default.GetPath("llama3/tokenizer.model"));
            vocabulary = vocabulary with { Merges = Llama3Vocabulary.DeriveMerges(vocabulary) };

            // llama.cpp's vocab-only load still reads the architecture's hyper-parameters: borrow a vocab file's.
            using var template = GgufFile.Open(SharedFixtures.Default.GetPath("vocab/ggml-vocab-llama-spm.gguf"));
            var writer = new GgufWriter();
            foreach (var (key, value) in template.Metadata)
            {
                if (key == "llama.vocab_size")
                {
                    writer.AddMetadata(key, (uint)vocabulary.Tokens.Count);
                }
                else if (!key.StartsWith("tokenizer.", StringComparison.Ordinal))
                {
                    writer.AddMetadata(key, value);
                }
            }
            GgufTokenizerVocabulary.Write(writer, vocabulary);
            Path = System.IO.Path.Combine(_directory, "ggml-vocab-llama3.gguf");
            writer.WriteTo(Path);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
