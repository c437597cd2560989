using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates.Reasoning;
using Fathom.Engine.Templates.Tools;

namespace Fathom.Engine.Tests.Serving;

/// <summary>The one chat output parse: reasoning first, then tool calls, and <c>tool_calls</c> as the finish reason.</summary>
public sealed class ChatOutputParserTests
{
    private const string Call = "{\"name\": \"weather\", \"parameters\": {\"city\": \"Oslo\"}}";

    private static readonly Llama3JsonToolCallParser Tools = new(() => "call-1");

    private static GenerationOutput Output(string text, FinishReason? finish = null) => new(0, text, new SampledToken(1, float.NaN, []), finish);

    [Fact]
    public void A_stream_splits_reasoning_then_yields_the_call_and_finishes_with_tool_calls()
    {
        var parser = new ChatOutputParser(new DeepSeekR1ReasoningParser(), Tools);
        var deltas = new[] { Output("Let me"), Output(" check</think>"), Output(Call, FinishReason.Stop) }.Select(parser.Push).ToList();

        Assert.Equal("Let me check", string.Concat(deltas.Select(d => d.ReasoningContent)));
        Assert.All(deltas, d => Assert.Equal("", d.Content));
        var last = deltas[^1];
        var call = Assert.Single(last.ToolCalls);
        Assert.Equal(("call-1", "weather", "{\"city\": \"Oslo\"}"), (call.Id, call.Name, call.Arguments));
        Assert.Equal(0, last.FirstToolCallIndex);
        Assert.Equal(ChatFinishReason.ToolCalls, last.FinishReason);
        Assert.All(deltas[..^1], d => Assert.Null(d.FinishReason));
    }

    [Fact]
    public void A_stream_without_calls_keeps_the_engines_finish_reason()
    {
        var parser = new ChatOutputParser(null, Tools);
        var deltas = new[] { Output("Once"), Output(" upon", FinishReason.Length) }.Select(parser.Push).ToList();

        Assert.Equal("Once upon", string.Concat(deltas.Select(d => d.Content)));
        Assert.Equal(ChatFinishReason.Length, deltas[^1].FinishReason);
        Assert.All(deltas, d => Assert.Empty(d.ToolCalls));
    }

    [Fact]
    public void A_whole_answer_of_calls_has_null_content_and_finishes_with_tool_calls()
    {
        var choice = ChatOutputParser.ParseWhole(0, "Let me check</think>" + Call, [], FinishReason.Stop, new DeepSeekR1ReasoningParser(), Tools);

        Assert.Equal("Let me check", choice.ReasoningContent);
        Assert.Null(choice.Content);
        Assert.Equal("weather", Assert.Single(choice.ToolCalls).Name);
        Assert.Equal(ChatFinishReason.ToolCalls, choice.FinishReason);
    }

    [Fact]
    public void A_whole_answer_keeps_the_whole_text_parsers_edges()
    {
        // The whole-text reasoning parser reports an immediately closed reasoning as empty, not absent, and an
        // answer that is not a call stays content, never null.
        var choice = ChatOutputParser.ParseWhole(0, "</think>", [], FinishReason.Length, new DeepSeekR1ReasoningParser(), Tools);

        Assert.Equal("", choice.ReasoningContent);
        Assert.Equal("", choice.Content);
        Assert.Empty(choice.ToolCalls);
        Assert.Equal(ChatFinishReason.Length, choice.FinishReason);
    }
}
