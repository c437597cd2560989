using System.Text.Json;
using Fathom.Engine.Tokenization;
using Fathom.Gguf;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>
/// The same tokenizer read two ways gives the same ids: Hugging Face's <c>tokenizer.json</c> and a GGUF vocabulary.
/// Llama 3.1: shared/hf-tokenizers/llama-3.1 against the Llama 3 GGUF written from Meta's tokenizer.model (the
/// vocabulary DeepSeek-R1-Distill-Llama-70B uses). Llama 2: the llama-spm GGUF converted to a tokenizer.json the way
/// Hugging Face converts SentencePiece models (merges from scores, byte fallback, Prepend/Replace or Metaspace),
/// against llama.cpp's own vectors.
/// </summary>
public sealed class HuggingFaceGgufParityTests : IClassFixture<Llama3GgufTests.Llama3Gguf>
{
    private readonly Llama3GgufTests.Llama3Gguf _gguf;

    public HuggingFaceGgufParityTests(Llama3GgufTests.Llama3Gguf gguf) => _gguf = gguf;

    [Fact]
    public void Llama31_tokenizer_json_and_the_llama3_gguf_give_the_same_ids()
    {
        var hf = HuggingFaceTokenizerFiles.Load(VocabularyFixtures.HuggingFaceDirectory("llama-3.1")).Tokenizer;
        var gguf = GgufTokenizerVocabulary.CreateTokenizer(_gguf.Path);
        var texts = VocabularyFixtures.ReadVectors("hf-tokenizers/llama-3.1/vectors.inp").Select(c => c.Text)
            .Concat(VocabularyFixtures.ReadVectors("llama3/ggml-vocab-llama-bpe.gguf.inp").Select(c => c.Text))
            .Concat(LlamaCppComparisonTests.Strings)
            .Append("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
            .ToList();

        Assert.Equal(gguf.BosId, hf.BosId);
        Assert.Equal(gguf.AddBos, hf.AddBos);
        var failures = new List<string>();
        foreach (var text in texts)
        {
            foreach (var (bos, special) in new[] { (false, true), (true, true), (true, false) })
            {
                var expected = gguf.Encode(text, bos, special);
                var actual = hf.Encode(text, bos, special);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    failures.Add($"bos={bos} special={special} '{text}': GGUF [{string.Join(' ', expected)}], tokenizer.json [{string.Join(' ', actual)}]");
                }
                else
                {
                    Assert.Equal(gguf.Decode(expected), hf.Decode(actual));
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count}/{texts.Count * 3} differ:\n" + string.Join('\n', failures));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Llama2_as_tokenizer_json_gives_llama_cpp_ids(bool metaspace)
    {
        var ggufPath = SharedFixtures.Default.GetPath("vocab/ggml-vocab-llama-spm.gguf");
        TokenizerVocabulary spm;
        using (var file = GgufFile.Open(ggufPath))
        {
            spm = GgufTokenizerVocabulary.Read(file.Metadata);
        }
        var hf = Tokenizer.Create(HuggingFaceTokenizerJson.Parse(ToTokenizerJson(spm, metaspace), "llama-spm.tokenizer.json"));
        var gguf = GgufTokenizerVocabulary.CreateTokenizer(ggufPath);
        Assert.Equal("bpe", hf.Vocabulary.Model);

        var failures = new List<string>();
        var cases = VocabularyFixtures.ReadVectors("vocab/ggml-vocab-llama-spm.gguf.inp");
        foreach (var (text, expected) in cases)
        {
            if (metaspace && text.StartsWith(' '))
            {
                // Metaspace replaces spaces and then puts ▁ only before text that does not start with one: " x" gets
                // one ▁ where SentencePiece's dummy prefix (and Llama 2's legacy Prepend) gives two.
                // So the ids are SentencePiece's for the text without its first space.
                int[] shifted = text.Length > 1 ? gguf.Encode(text[1..]) : [hf.FindToken("\u2581")!.Value];
                Assert.Equal(shifted, hf.Encode(text));
                continue;
            }
            var actual = hf.Encode(text);
            if (!actual.AsSpan().SequenceEqual(expected))
            {
                failures.Add($"'{text}': llama.cpp [{string.Join(' ', expected)}], tokenizer.json [{string.Join(' ', actual)}]");
            }
            Assert.Equal(gguf.Encode(text, addSpecial: true), hf.Encode(text, addSpecial: true));
            Assert.Equal(gguf.Decode(expected), hf.Decode(expected));
        }
        Assert.True(failures.Count == 0, $"{failures.Count}/{cases.Count} differ:\n" + string.Join('\n', failures));
    }

    /// <summary>
    /// A SentencePiece BPE vocabulary as Hugging Face's converter writes it: every split of a token into two tokens is
    /// a merge, ordered by the merged token's score (highest first), splits of one token by left then right id.
    /// </summary>
    private static byte[] ToTokenizerJson(TokenizerVocabulary spm, bool metaspace)
    {
        var tokens = spm.Tokens;
        var types = spm.TokenTypes!;
        var scores = spm.Scores!;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (types[i] == (int)TokenType.Normal)
            {
                ids.TryAdd(tokens[i], i);
            }
        }
        var merges = new List<(string Left, string Right, float Score, int LeftId, int RightId)>();
        foreach (var (token, _) in ids)
        {
            var splits = new List<(string, string, float, int, int)>();
            for (var k = 1; k < token.Length; k++)
            {
                if (ids.TryGetValue(token[..k], out var left) && ids.TryGetValue(token[k..], out var right))
                {
                    splits.Add((token[..k], token[k..], scores[ids[token]], left, right));
                }
            }
            merges.AddRange(splits.OrderBy(s => s.Item4).ThenBy(s => s.Item5));
        }
        var ordered = merges.Select((m, i) => (m, i)).OrderByDescending(x => x.m.Score).ThenBy(x => x.i).Select(x => x.m);

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("added_tokens");
            for (var i = 0; i < tokens.Count; i++)
            {
                if (types[i] is (int)TokenType.Control or (int)TokenType.Unknown)
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", i);
                    w.WriteString("content", tokens[i]);
                    w.WriteBoolean("special", true);
                    w.WriteBoolean("normalized", false);
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            if (metaspace)
            {
                w.WriteNull("normalizer");
                w.WriteStartObject("pre_tokenizer");
                w.WriteString("type", "Metaspace");
                w.WriteString("replacement", "\u2581");
                w.WriteString("prepend_scheme", "first");
                w.WriteBoolean("split", false);
                w.WriteEndObject();
                w.WriteStartObject("decoder");
                w.WriteString("type", "Metaspace");
                w.WriteString("replacement", "\u2581");
                w.WriteString("prepend_scheme", "first");
                w.WriteBoolean("split", false);
                w.WriteEndObject();
            }
            else
            {
                w.WritePropertyName("normalizer");
                JsonDocument.Parse("""{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}""").WriteTo(w);
                w.WriteNull("pre_tokenizer");
                w.WritePropertyName("decoder");
                JsonDocument.Parse("""{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}""").WriteTo(w);
            }
            w.WritePropertyName("post_processor");
            JsonDocument.Parse("""{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}}""").WriteTo(w);
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteString("unk_token", "<unk>");
            w.WriteBoolean("fuse_unk", true);
            w.WriteBoolean("byte_fallback", true);
            w.WriteStartObject("vocab");
            for (var i = 0; i < tokens.Count; i++)
            {
                w.WriteNumber(tokens[i], i);
            }
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (left, right, _, _, _) in ordered)
            {
                w.WriteStartArray();
                w.WriteStringValue(left);
                w.WriteStringValue(right);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}
