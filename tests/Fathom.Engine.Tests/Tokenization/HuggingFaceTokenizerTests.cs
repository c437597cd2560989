using System.Text;
using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>
/// Hugging Face <c>tokenizer.json</c> files from <c>shared/hf-tokenizers</c> against the ids transformers.js gives
/// for the 46 llama.cpp test strings (no special tokens added).
/// </summary>
public sealed class HuggingFaceTokenizerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("llama-3.1")]
    [InlineData("qwen3")]
    [InlineData("deepseek-v3")]
    public void Every_vector_tokenizes_as_transformers_js(string name)
    {
        var tokenizer = HuggingFaceTokenizerJson.CreateTokenizer(SharedFixtures.Default.GetPath($"hf-tokenizers/{name}/tokenizer.json"));
        var cases = VocabularyFixtures.ReadVectors($"hf-tokenizers/{name}/vectors.inp");
        Assert.Equal(46, cases.Count);

        var failures = new List<string>();
        foreach (var (text, expected) in cases)
        {
            var actual = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
            if (!actual.AsSpan().SequenceEqual(expected))
            {
                failures.Add($"'{Escape(text)}': expected [{string.Join(' ', expected)}], got [{string.Join(' ', actual)}]");
            }
        }
        output.WriteLine($"{name}: {cases.Count - failures.Count}/{cases.Count} equal");
        Assert.True(failures.Count == 0, $"{name}: {failures.Count}/{cases.Count} differ:\n" + string.Join('\n', failures));
    }

    [Theory]
    [InlineData("llama-3.1")]
    [InlineData("qwen3")]
    [InlineData("deepseek-v3")]
    public void Decoding_the_expected_ids_gives_back_the_text(string name)
    {
        var tokenizer = HuggingFaceTokenizerJson.CreateTokenizer(SharedFixtures.Default.GetPath($"hf-tokenizers/{name}/tokenizer.json"));
        foreach (var (text, expected) in VocabularyFixtures.ReadVectors($"hf-tokenizers/{name}/vectors.inp"))
        {
            var decoded = tokenizer.Decode(expected);
            // Llama 3's flavor cleans spaces before punctuation when decoding, as llama.cpp does.
            if (tokenizer.CleanSpaces)
            {
                Assert.Equal(text.Replace(" ", ""), decoded.Replace(" ", ""));
            }
            else
            {
                var reference = tokenizer.Vocabulary.Normalizer is { } normalizer ? normalizer.Apply(text) : text;
                Assert.Equal(reference, decoded);
            }
        }
    }

    [Theory]
    [InlineData("llama-3.1", "llama-bpe", false, true)]
    [InlineData("qwen3", "qwen2", false, false)]
    [InlineData("deepseek-v3", "qwen2", true, false)]
    public void Known_split_expressions_map_to_the_named_pre_tokenizers(string name, string pre, bool ownExpressions, bool ignoreMerges)
    {
        var vocabulary = HuggingFaceTokenizerJson.Read(SharedFixtures.Default.GetPath($"hf-tokenizers/{name}/tokenizer.json"));
        Assert.Equal(pre, vocabulary.Pre);
        Assert.Equal(ownExpressions, vocabulary.PreTokenizerPatterns is not null);
        Assert.Equal(ignoreMerges, vocabulary.IgnoreMerges);
        Assert.Equal(name == "qwen3" ? NormalizationForm.FormC : null, vocabulary.Normalizer?.OnlyUnicodeForm);
    }

    [Theory]
    [InlineData("""{"model":{"type":"BPE","merges":[]}}""", "model.vocab")]
    [InlineData("""{"model":{"type":"Unigram","vocab":[]}}""", "model.type")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[7]},"pre_tokenizer":{"type":"ByteLevel","use_regex":true}}""", "model.merges[0]")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":"x"},"merges":[]}}""", "model.vocab")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"a"},"behavior":"Removed"}}""", "pre_tokenizer.behavior")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated"}}""", "pre_tokenizer")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"content":"x"}]}""", "added_tokens[0].id")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"BertNormalizer"},"pre_tokenizer":{"type":"ByteLevel"}}""", "normalizer.type")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Whitespace"}}""", "pre_tokenizer.type")]
    [InlineData("""{"model":""", "not valid JSON")]
    public void Malformed_files_are_rejected_naming_the_field(string json, string field)
    {
        var e = Assert.Throws<TokenizerException>(() => Tokenizer.Create(HuggingFaceTokenizerJson.Parse(Encoding.UTF8.GetBytes(json), "t.json")));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("t.json: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Qwen3_normalizes_to_NFC_before_splitting()
    {
        var tokenizer = HuggingFaceTokenizerJson.CreateTokenizer(SharedFixtures.Default.GetPath("hf-tokenizers/qwen3/tokenizer.json"));
        Assert.Equal(tokenizer.Encode("caf\u00E9 cr\u00E8me"), tokenizer.Encode("cafe\u0301 cre\u0300me"));
        // Without a normalizer the decomposed accent is a separate code point and tokenizes differently.
        var llama = HuggingFaceTokenizerJson.CreateTokenizer(SharedFixtures.Default.GetPath("hf-tokenizers/llama-3.1/tokenizer.json"));
        Assert.NotEqual(llama.Encode("caf\u00E9 cr\u00E8me"), llama.Encode("cafe\u0301 cre\u0300me"));
    }

    [Theory]
    [InlineData("""["a b", "ab c"]""")]
    [InlineData("""[["a", "b"], ["ab", "c"]]""")]
    public void Merges_as_strings_or_pairs_give_the_same_tokens(string merges)
    {
        var json = $$"""
            {"model":{"type":"BPE","ignore_merges":false,"vocab":{"a":0,"b":1,"c":2,"ab":3,"abc":4},"merges":{{merges}}},
             "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
             "added_tokens":[{"id":5,"content":"<sep>","special":true}]}
            """;
        var tokenizer = Tokenizer.Create(HuggingFaceTokenizerJson.Parse(Encoding.UTF8.GetBytes(json), "t.json"));
        Assert.Equal([4, 5, 3, 0], tokenizer.Encode("abc<sep>aba", parseSpecial: true));
        Assert.Equal(TokenAttributes.Control, tokenizer.GetAttributes(5) & TokenAttributes.Control);
    }

    [Fact]
    public void Normal_tokens_that_look_special_stay_text()
    {
        // Qwen3's vocabulary has "</s>" as ordinary text (id 128247), not an added token: Hugging Face's Rust tokenizers
        // gives these ids, where llama.cpp's by-text fix-up would make it a control token and cut it out.
        var tokenizer = HuggingFaceTokenizerJson.CreateTokenizer(SharedFixtures.Default.GetPath("hf-tokenizers/qwen3/tokenizer.json"));
        Assert.Equal([9707, 366, 82, 29, 1879, 522, 82, 29], tokenizer.Encode("Hello <s> world</s>", parseSpecial: true));
        Assert.Equal(TokenAttributes.Normal, tokenizer.GetAttributes(128247));
        Assert.False(tokenizer.IsEndOfGeneration(128247));
        Assert.True(tokenizer.IsEndOfGeneration(tokenizer.FindToken("<|im_end|>")!.Value));
    }

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t");
}
