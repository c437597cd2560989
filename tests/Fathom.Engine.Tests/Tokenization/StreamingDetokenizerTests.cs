using Fathom.Testing;
using System.Text;

namespace Fathom.Engine.Tests.Tokenization;

public sealed class StreamingDetokenizerTests
{
    [Theory]
    [InlineData("vocab/ggml-vocab-llama-spm.gguf")]
    [InlineData(SharedFixtures.Stories260K)]
    [InlineData("vocab/ggml-vocab-deepseek-llm.gguf")]
    [InlineData("llama3")]
    public void Streamed_text_is_always_valid_and_equals_the_whole_decode(string vocabulary)
    {
        var tokenizer = VocabularyFixtures.Get(vocabulary);
        // Characters that tokenize into several byte tokens or byte-level pieces each.
        const string text = "Hello 深度求索 🦙🚀 naïve café 𝒜 ÄÖÜ ﷽ done";
        var ids = tokenizer.Encode(text);
        var stream = tokenizer.CreateStreamingDetokenizer();
        var output = new StringBuilder();
        var heldBack = 0;
        foreach (var id in ids)
        {
            var chunk = stream.Append(id);
            Assert.DoesNotContain('\uFFFD', chunk);
            AssertWellFormed(chunk);
            if (stream.PendingByteCount > 0)
            {
                heldBack++;
            }
            output.Append(chunk);
        }
        output.Append(stream.Flush());

        Assert.True(heldBack > 0, "the text should split at least one character across tokens");
        Assert.Equal(tokenizer.Decode(ids), tokenizer.AddSpacePrefix ? output.ToString()[1..] : output.ToString());
    }

    [Fact]
    public void Byte_fallback_tokens_are_held_until_the_character_is_complete()
    {
        var tokenizer = VocabularyFixtures.Get(SharedFixtures.Stories260K);
        // 🦙 is U+1F999: F0 9F A6 99 — four byte tokens in a 512-token vocabulary.
        var llama = tokenizer.Encode("🦙");
        var byteTokens = llama.Where(id => tokenizer.GetText(id).StartsWith("<0x", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, byteTokens.Length);

        var stream = tokenizer.CreateStreamingDetokenizer();
        Assert.Equal("", stream.Append(byteTokens[0]));
        Assert.Equal("", stream.Append(byteTokens[1]));
        Assert.Equal("", stream.Append(byteTokens[2]));
        Assert.Equal(3, stream.PendingByteCount);
        Assert.Equal("🦙", stream.Append(byteTokens[3]));
        Assert.Equal(0, stream.PendingByteCount);
    }

    [Fact]
    public void An_incomplete_sequence_at_the_end_is_flushed_as_a_replacement_character()
    {
        var tokenizer = VocabularyFixtures.Get(SharedFixtures.Stories260K);
        var bytes = tokenizer.Encode("🦙").Where(id => tokenizer.GetText(id).StartsWith("<0x", StringComparison.Ordinal)).ToArray();
        var stream = tokenizer.CreateStreamingDetokenizer();
        stream.Append(bytes[0]);
        stream.Append(bytes[1]);
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal(0, stream.PendingByteCount);
    }

    [Fact]
    public void Control_tokens_are_silent_unless_rendered()
    {
        var tokenizer = VocabularyFixtures.Get("llama3");
        var quiet = tokenizer.CreateStreamingDetokenizer();
        Assert.Equal("", quiet.Append(128009));
        var loud = tokenizer.CreateStreamingDetokenizer(renderSpecial: true);
        Assert.Equal("<|eot_id|>", loud.Append(128009));
    }

    private static void AssertWellFormed(string chunk)
    {
        for (var i = 0; i < chunk.Length; i++)
        {
            if (char.IsHighSurrogate(chunk[i]))
            {
                Assert.True(i + 1 < chunk.Length && char.IsLowSurrogate(chunk[i + 1]), "a chunk ends inside a surrogate pair");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(chunk[i]), "a lone low surrogate");
            }
        }
    }
}
