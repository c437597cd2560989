using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

public sealed class TokenizerBehaviourTests
{
    [Fact]
    public void Llama3_adds_begin_of_text_only_when_asked()
    {
        var tokenizer = VocabularyFixtures.Get("llama3");
        var plain = tokenizer.Encode("Hello world");
        var withBos = tokenizer.Encode("Hello world", addSpecial: true);
        Assert.Equal(128000, withBos[0]);
        Assert.Equal(plain, withBos[1..]);
        Assert.DoesNotContain(128000, plain);
    }

    [Fact]
    public void Special_token_texts_become_ids_only_when_parsing_is_on()
    {
        var tokenizer = VocabularyFixtures.Get("llama3");
        const string text = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        var parsed = tokenizer.Encode(text, parseSpecial: true);
        Assert.Equal(128006, parsed[0]);
        Assert.Contains(128007, parsed);
        Assert.Equal(128009, parsed[^1]);

        var literal = tokenizer.Encode(text, parseSpecial: false);
        Assert.DoesNotContain(literal, id => id >= Llama3Vocabulary.BaseTokenCount);
        Assert.Equal(text, tokenizer.Decode(literal));
    }

    [Fact]
    public void Sentencepiece_puts_a_space_after_a_parsed_special_token()
    {
        var tokenizer = VocabularyFixtures.Get("vocab/ggml-vocab-llama-spm.gguf");
        var afterSpecial = tokenizer.Encode("</s>Hello", parseSpecial: true);
        Assert.Equal(2, afterSpecial[0]);
        Assert.Equal(tokenizer.Encode("Hello"), afterSpecial[1..]);
        Assert.Equal("▁Hello", tokenizer.GetText(afterSpecial[1]));
    }

    [Fact]
    public void Decode_can_drop_bos_and_render_control_tokens()
    {
        var tokenizer = VocabularyFixtures.Get("vocab/ggml-vocab-llama-spm.gguf");
        var ids = tokenizer.Encode("Hello world", addSpecial: true);
        Assert.Equal(1, ids[0]);
        Assert.Equal(" Hello world", tokenizer.Decode(ids));            // BOS renders as nothing, the space stays
        // llama.cpp keeps the space when it removes a leading BOS (it strips it only when the text starts the ids).
        Assert.Equal(" Hello world", tokenizer.Decode(ids, removeSpecial: true));
        Assert.Equal("Hello world", tokenizer.Decode(ids.AsSpan(1)));
        Assert.Equal("<s> Hello world", tokenizer.Decode(ids, renderSpecial: true));
    }

    [Fact]
    public void Gpt2_decoding_cleans_spaces_before_punctuation_like_llama_cpp()
    {
        var tokenizer = VocabularyFixtures.Get("vocab/ggml-vocab-gpt-2.gguf");
        Assert.True(tokenizer.CleanSpaces);
        var ids = tokenizer.Encode("Hello , world ! I 'm here");
        Assert.Equal("Hello, world! I'm here", tokenizer.Decode(ids));
    }

    [Fact]
    public void End_of_generation_covers_eos_end_of_turn_and_end_of_message()
    {
        var tokenizer = VocabularyFixtures.Get("llama3");
        Assert.True(tokenizer.IsEndOfGeneration(128001));
        Assert.True(tokenizer.IsEndOfGeneration(128008));
        Assert.True(tokenizer.IsEndOfGeneration(128009));
        Assert.False(tokenizer.IsEndOfGeneration(128000));
        Assert.False(tokenizer.IsEndOfGeneration(tokenizer.Encode("Hello")[0]));
    }

    [Fact]
    public void Llama3_special_tokens_have_their_names_and_are_control_tokens()
    {
        var tokenizer = VocabularyFixtures.Get("llama3");
        Assert.Equal(128256, tokenizer.Count);
        Assert.Equal("<|begin_of_text|>", tokenizer.GetText(128000));
        Assert.Equal("<|finetune_right_pad_id|>", tokenizer.GetText(128004));
        Assert.Equal("<|start_header_id|>", tokenizer.GetText(128006));
        Assert.Equal("<|python_tag|>", tokenizer.GetText(128010));
        Assert.Equal("<|reserved_special_token_3|>", tokenizer.GetText(128011));
        Assert.Equal("<|reserved_special_token_247|>", tokenizer.GetText(128255));
        Assert.All(Enumerable.Range(128000, 256), id => Assert.True(tokenizer.GetAttributes(id).HasFlag(TokenAttributes.Control)));
    }

    [Fact]
    public void An_id_outside_the_vocabulary_is_a_tokenizer_exception()
    {
        var tokenizer = VocabularyFixtures.Get(SharedFixtures.Stories260K);
        var e = Assert.Throws<TokenizerException>(() => tokenizer.Decode([5, 512]));
        Assert.Contains("512", e.Message);
        Assert.Throws<TokenizerException>(() => tokenizer.GetPiece(-1));
    }

    [Fact]
    public void Unsupported_models_and_pre_tokenizers_are_named_in_the_error()
    {
        var model = Assert.Throws<TokenizerException>(() => Tokenizer.Create(new TokenizerVocabulary { Model = "bert", Tokens = ["a"] }));
        Assert.Contains("bert", model.Message);
        var pre = Assert.Throws<TokenizerException>(() =>
            Tokenizer.Create(new TokenizerVocabulary { Model = "gpt2", Pre = "klingon", Tokens = ["a"], Merges = [] }));
        Assert.Contains("klingon", pre.Message);
    }

    [Fact]
    public void Arrays_shorter_than_the_token_list_are_rejected()
    {
        var e = Assert.Throws<TokenizerException>(() =>
            Tokenizer.Create(new TokenizerVocabulary { Model = "llama", Tokens = ["<unk>", "<s>", "</s>"], Scores = [0f] }));
        Assert.Contains("scores", e.Message);
    }

    [Fact]
    public void A_malformed_tiktoken_line_names_the_line()
    {
        using var reader = new StringReader("IQ== 0\nnot-base64!! 1\n");
        var e = Assert.Throws<TokenizerException>(() => Llama3Vocabulary.Load(reader, "bad.model"));
        Assert.Contains("bad.model:2", e.Message);
    }

    [Fact]
    public void Encoding_is_the_same_from_many_threads()
    {
        var tokenizer = VocabularyFixtures.Get("llama3");
        var texts = LlamaCppComparisonTests.Strings;
        var expected = texts.Select(t => tokenizer.Encode(t)).ToArray();
        Parallel.For(0, 200, i =>
        {
            var k = i % texts.Length;
            Assert.Equal(expected[k], tokenizer.Encode(texts[k]));
        });
    }
}
