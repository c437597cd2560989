using System.Text;
using Fathom.Engine.Templates.Reasoning;

namespace Fathom.Engine.Tests.Templates;

public sealed class DeepSeekR1ReasoningParserTests
{
    private readonly DeepSeekR1ReasoningParser _parser = new();

    [Theory]
    [InlineData("The user wants a sum.\n</think>\n\n4", "The user wants a sum.\n", "\n\n4")]
    [InlineData("<think>abc</think>def", "abc", "def")]
    [InlineData("still thinking", "still thinking", null)]
    [InlineData("reasoned</think>", "reasoned", null)]
    [InlineData("ignored<think>r</think>c", "r", "c")]
    [InlineData("</think>answer only", "", "answer only")]
    [InlineData("a</think>b</think>c", "a", "b</think>c")]
    public void Whole_text_splits_like_vllm(string text, string? reasoning, string? content)
    {
        ReasoningResult result = _parser.Parse(text);
        Assert.Equal(reasoning, result.ReasoningContent);
        Assert.Equal(content, result.Content);
    }

    [Fact]
    public void Tag_cut_across_deltas_is_held_back_and_never_leaks()
    {
        IStreamingReasoningParser stream = _parser.CreateStreamingParser();
        Assert.Equal(new ReasoningResult("Reason", null), stream.Push("Reason"));
        Assert.Equal(new ReasoningResult("ing.", null), stream.Push("ing.</th"));
        Assert.Equal(new ReasoningResult(null, "Ans"), stream.Push("ink>Ans"));
        Assert.Equal(new ReasoningResult(null, "wer"), stream.Push("wer"));
        Assert.True(stream.Finish().IsEmpty);
    }

    [Fact]
    public void A_less_than_sign_that_is_not_a_tag_is_released_when_the_next_delta_decides()
    {
        IStreamingReasoningParser stream = _parser.CreateStreamingParser();
        Assert.Equal(new ReasoningResult("x ", null), stream.Push("x <"));
        Assert.Equal(new ReasoningResult("< y", null), stream.Push(" y"));
        Assert.True(stream.Push("<").IsEmpty);
        Assert.Equal(new ReasoningResult("<", null), stream.Finish());
    }

    [Fact]
    public void Unfinished_reasoning_is_flushed_as_reasoning()
    {
        IStreamingReasoningParser stream = _parser.CreateStreamingParser();
        Assert.Equal(new ReasoningResult("thinking ", null), stream.Push("thinking </thi"));
        Assert.Equal(new ReasoningResult("</thi", null), stream.Finish());
    }

    [Theory]
    [InlineData("Let me think: 2 < 3 and <b>bold</b>.\n</think>\n\nYes, 2 < 3.")]
    [InlineData("<think>\nshort\n</think>answer")]
    [InlineData("no end tag at all <thin")]
    [InlineData("</think>")]
    public void Any_chunking_gives_the_same_split_as_the_whole_text(string text)
    {
        ReasoningResult whole = _parser.Parse(text);
        var random = new Random(1234);
        for (int trial = 0; trial < 200; trial++)
        {
            IStreamingReasoningParser stream = _parser.CreateStreamingParser();
            var reasoning = new StringBuilder();
            var content = new StringBuilder();
            int pos = 0;
            while (pos < text.Length)
            {
                int size = trial == 0 ? 1 : random.Next(1, 6);
                size = Math.Min(size, text.Length - pos);
                Collect(stream.Push(text.Substring(pos, size)), reasoning, content);
                pos += size;
            }

            Collect(stream.Finish(), reasoning, content);
            Assert.Equal(whole.ReasoningContent ?? "", reasoning.ToString());
            Assert.Equal(whole.Content ?? "", content.ToString());
        }
    }

    private static void Collect(ReasoningResult delta, StringBuilder reasoning, StringBuilder content)
    {
        Assert.NotEqual("", delta.ReasoningContent);
        Assert.NotEqual("", delta.Content);
        reasoning.Append(delta.ReasoningContent);
        content.Append(delta.Content);
    }
}
