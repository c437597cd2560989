using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>
/// Small hand-written <c>tokenizer.json</c> files (Tokenization/Data) for the parts the three real tokenizers in
/// shared/ do not use: Llama 2's Prepend/Replace normalizers with byte fallback, Metaspace with each prepend scheme,
/// and byte-level added tokens with lstrip/rstrip/single_word. Each expected id list is derived by hand below from
/// Hugging Face's rules; Hugging Face's own Rust tokenizers (npm <c>tokenizers</c> 0.23.2, run with
/// scripts/hf-tokenizer-ids.mjs) gives the same ids for every case.
/// </summary>
/// <remarks>
/// The character-level files share one vocabulary: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, byte tokens 3 &lt;0xC3&gt;,
/// 4 &lt;0xA9&gt;, 5 &lt;0xE2&gt;, 6 &lt;0x82&gt; (no &lt;0xAC&gt;), 7 ▁, 8 h, 9 e, 10 l, 11 o, 12 w, 13 r, 14 d, and merges by
/// rank: 0 "l l"→15 ll, 1 "▁ h"→16 ▁h, 2 "ll o"→17 llo, 3 "▁h e"→18 ▁he, 4 "▁he llo"→19 ▁hello, 5 "▁ w"→20 ▁w,
/// 6 "o r"→21 or, 7 "▁w or"→22 ▁wor, 8 "l d"→23 ld, 9 "ld ▁"→24 ld▁. unk_token &lt;unk&gt;, fuse_unk, byte_fallback.
/// </remarks>
public sealed class HuggingFaceTokenizerFixtureTests
{
    /// <summary>
    /// Llama 2's legacy form: normalizer Prepend("▁") then Replace(" "→"▁") on each piece between added tokens, no
    /// pre-tokenizer (the whole piece is one word), TemplateProcessing "&lt;s&gt; $A".
    /// </summary>
    [Theory]
    // "▁hello▁world": ranks 0 (ll), 1 (▁h), 2 (llo), 3 (▁he), 4 (▁hello), 5 (▁w), 6 (or), 7 (▁wor), 8 (ld) → ▁hello ▁wor ld.
    [InlineData("hello world", new[] { 19, 22, 23 })]
    // Prepend comes before Replace, so a leading space gives "▁▁hello": ▁ then ▁hello as above.
    [InlineData(" hello", new[] { 7, 19 })]
    // "▁é€": é is no token, its bytes C3 A9 are (3, 4); € (E2 82 AC) lacks <0xAC>, so it is <unk>.
    [InlineData("é€", new[] { 7, 3, 4, 0 })]
    // Two unknown characters in a row fuse into one <unk> (fuse_unk).
    [InlineData("€€", new[] { 7, 0 })]
    // Each piece between added tokens is normalized on its own, so both get the ▁ prefix.
    [InlineData("hello<s>hello", new[] { 19, 1, 19 })]
    // "▁old▁e": "l d" (rank 8) then "ld ▁" (rank 9) merges across the space, as nothing splits words here.
    [InlineData("old e", new[] { 7, 11, 24, 9 })]
    public void Legacy_llama2_normalizers_and_byte_fallback(string text, int[] expected)
    {
        var tokenizer = Load("spm-legacy");
        Assert.Equal(expected, tokenizer.Encode(text, parseSpecial: true));
        Assert.Equal([1, .. expected], tokenizer.Encode(text, addSpecial: true, parseSpecial: true));
    }

    [Fact]
    public void Legacy_llama2_decoder_strips_the_first_space_and_joins_byte_tokens()
    {
        var tokenizer = Load("spm-legacy");
        Assert.Equal("bpe", tokenizer.Vocabulary.Model);
        Assert.Equal(1, tokenizer.BosId);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(0, tokenizer.UnknownId);
        Assert.Equal(TokenAttributes.Byte, tokenizer.GetAttributes(3) & TokenAttributes.Byte);
        // Replace ▁→" ", ByteFallback, Fuse, Strip one leading " ": as Hugging Face decodes these ids.
        Assert.Equal("hello world", tokenizer.Decode([19, 22, 23]));
        Assert.Equal("old e", tokenizer.Decode([7, 11, 24, 9]));
        Assert.Equal("é<unk>", tokenizer.Decode([7, 3, 4, 0], renderSpecial: true));
    }

    /// <summary>
    /// Metaspace replaces spaces first and then prepends ▁ only where the text does not start with one: " hello" is
    /// "▁hello". With prepend_scheme first, text after an added token gets no ▁ (it does not start the input); with
    /// always it does. With split, each word starts at a ▁, so "ld ▁" can no longer merge across words.
    /// </summary>
    [Theory]
    [InlineData("first", "hello world", new[] { 19, 22, 23 })]
    [InlineData("first", " hello", new[] { 19 })]
    // "hello" without ▁: h e l l o → ll (0), llo (2); "h e" is no merge.
    [InlineData("first", "<s>hello", new[] { 1, 8, 9, 17 })]
    [InlineData("first", "hello<s>hello", new[] { 19, 1, 8, 9, 17 })]
    [InlineData("first", "old e", new[] { 7, 11, 24, 9 })]
    [InlineData("first", "é€", new[] { 7, 3, 4, 0 })]
    [InlineData("always", "<s>hello", new[] { 1, 19 })]
    [InlineData("always", "hello<s>hello", new[] { 19, 1, 19 })]
    // split: "▁old" "▁e" → ▁ o ld (rank 8) and ▁ e.
    [InlineData("always", "old e", new[] { 7, 11, 23, 7, 9 })]
    [InlineData("always", "hello  ", new[] { 19, 7, 7 })]
    public void Metaspace_prepend_schemes_and_split(string scheme, string text, int[] expected)
    {
        var tokenizer = Load("metaspace-" + scheme);
        Assert.Equal(expected, tokenizer.Encode(text, parseSpecial: true));
    }

    [Fact]
    public void Metaspace_decoder_turns_the_replacement_back_into_spaces()
    {
        var tokenizer = Load("metaspace-first");
        Assert.Equal("hello world", tokenizer.Decode([19, 22, 23]));
        Assert.Equal(" hello", tokenizer.Decode([7, 19]));
    }

    /// <summary>
    /// Byte-level vocabulary a 0, b 1, c 2, Ġ 3, Ġa 4, ab 5, Ġab 6; merges "a b" (0), "Ġ ab" (1), "Ġ a" (2); added
    /// tokens &lt;x&gt; 7 (special, lstrip), &lt;y&gt; 8 (special, rstrip), cab 9 (not special, single_word), &lt;z&gt; 10
    /// (special, added after the text by TemplateProcessing "$A &lt;z&gt;"). Normalizer NFC then Replace "C"→"c";
    /// ByteLevel with add_prefix_space, so every piece between added tokens gets a leading space.
    /// </summary>
    [Theory]
    // " ab" → Ġ a b → ab (0) → Ġab (1).
    [InlineData("ab", new[] { 6 })]
    // lstrip: the space before <x> is part of it, so the first piece is "ab", not "ab ".
    [InlineData("ab <x>ab", new[] { 6, 7, 6 })]
    // rstrip: the spaces after <y> are part of it.
    [InlineData("<y>  ab", new[] { 8, 6 })]
    // single_word: "cab" after a space and at the end is the token; " a " → Ġa (2) then Ġ.
    [InlineData("a cab", new[] { 4, 3, 9 })]
    // Inside "acab" it is not: " acab" → Ġ a c a b → ab (0), Ġa (2).
    [InlineData("acab", new[] { 4, 2, 5 })]
    [InlineData("cabc", new[] { 3, 2, 5, 2 })]
    // Replace "C"→"c" after NFC.
    [InlineData("aC", new[] { 4, 2 })]
    // NFC makes a + U+0301 one character, whose byte characters are no tokens and there is no unk_token: dropped.
    [InlineData("a\u0301b", new[] { 3, 1 })]
    [InlineData("<x><y> a", new[] { 7, 8, 4 })]
    public void Byte_level_added_token_flags_prefix_space_and_normalizers(string text, int[] expected)
    {
        var tokenizer = Load("byte-level-flags");
        Assert.Equal(expected, tokenizer.Encode(text, parseSpecial: true));
        Assert.Equal([.. expected, 10], tokenizer.Encode(text, addSpecial: true, parseSpecial: true));
    }

    [Fact]
    public void Byte_level_post_processor_adds_eos_and_no_bos()
    {
        var tokenizer = Load("byte-level-flags");
        Assert.False(tokenizer.AddBos);
        Assert.Null(tokenizer.BosId);
        Assert.True(tokenizer.AddEos);
        Assert.Equal(10, tokenizer.EosId);
        Assert.Equal(" ab", tokenizer.Decode([6]));
    }

    private static Tokenizer Load(string name) =>
        HuggingFaceTokenizerJson.CreateTokenizer(Path.Combine(AppContext.BaseDirectory, "Tokenization", "Data", name + ".tokenizer.json"));
}
