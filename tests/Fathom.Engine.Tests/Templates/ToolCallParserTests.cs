using System.Text;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Tools;

namespace Fathom.Engine.Tests.Templates;

public sealed class ToolCallParserTests
{
    private static Func<string> Ids()
    {
        int n = 0;
        return () => $"call_{++n}";
    }

    [Fact]
    public void Llama3_json_call_is_parsed_and_arguments_reserialized_like_python()
    {
        var parser = new Llama3JsonToolCallParser(Ids());
        ToolCallParseResult result = parser.Parse("{\"name\": \"get_weather\", \"parameters\": {\"city\":\"Zürich\",\"days\":[1,2]}}");
        Assert.Null(result.Content);
        ChatToolCall call = Assert.Single(result.ToolCalls);
        Assert.Equal(new ChatToolCall("call_1", "get_weather", "{\"city\": \"Zürich\", \"days\": [1, 2]}"), call);
    }

    [Fact]
    public void Llama3_python_tag_arguments_key_and_several_calls()
    {
        var parser = new Llama3JsonToolCallParser(Ids());
        ToolCallParseResult result = parser.Parse(
            "<|python_tag|>{\"name\": \"a\", \"arguments\": {\"x\": 1}}; {\"name\": \"b\", \"parameters\": {}}");
        Assert.Equal(
            [new ChatToolCall("call_1", "a", "{\"x\": 1}"), new ChatToolCall("call_2", "b", "{}")],
            result.ToolCalls);
        Assert.Null(result.Content);
    }

    [Theory]
    [InlineData("The weather is fine.")]
    [InlineData("{not json")]
    [InlineData("{\"no_name\": 1}")]
    [InlineData("{\"name\": \"a\", \"parameters\": {}} trailing words")]
    public void Llama3_anything_else_is_content(string text)
    {
        ToolCallParseResult result = new Llama3JsonToolCallParser(Ids()).Parse(text);
        Assert.False(result.HasToolCalls);
        Assert.Equal(text, result.Content);
    }

    [Fact]
    public void Llama3_streaming_passes_plain_text_through_at_once()
    {
        IStreamingToolCallParser stream = new Llama3JsonToolCallParser(Ids()).CreateStreamingParser();
        Assert.Equal("Hel", stream.Push("Hel").Content);
        Assert.Equal("lo", stream.Push("lo").Content);
        Assert.False(stream.Finish().HasToolCalls);
    }

    [Fact]
    public void Llama3_streaming_emits_each_call_when_its_json_completes()
    {
        IStreamingToolCallParser stream = new Llama3JsonToolCallParser(Ids()).CreateStreamingParser();
        Assert.False(stream.Push("<|python").HasToolCalls);
        Assert.False(stream.Push("_tag|>{\"name\": \"a\", \"parameters\": {\"q\": \"}\"").HasToolCalls);
        ToolCallParseResult first = stream.Push("}}; {\"name\"");
        Assert.Equal([new ChatToolCall("call_1", "a", "{\"q\": \"}\"}")], first.ToolCalls);
        Assert.Null(first.Content);
        ToolCallParseResult second = stream.Push(": \"b\", \"parameters\": {}}");
        Assert.Equal([new ChatToolCall("call_2", "b", "{}")], second.ToolCalls);
        Assert.Equal(ToolCallParseResult.Empty, stream.Finish());
    }

    [Fact]
    public void Llama3_streaming_invalid_json_comes_back_as_content_at_the_end()
    {
        IStreamingToolCallParser stream = new Llama3JsonToolCallParser(Ids()).CreateStreamingParser();
        Assert.Null(stream.Push("{oops").Content);
        Assert.Equal("{oops}", (stream.Push("}").Content ?? "") + stream.Finish().Content);
    }

    private const string DeepSeekCalls =
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>"
        + "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";

    [Fact]
    public void DeepSeek_calls_after_content()
    {
        ToolCallParseResult result = new DeepSeekToolCallParser(Ids()).Parse("Let me check." + DeepSeekCalls);
        Assert.Equal("Let me check.", result.Content);
        Assert.Equal(
            [new ChatToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}"), new ChatToolCall("call_2", "get_time", "{}")],
            result.ToolCalls);
    }

    [Fact]
    public void DeepSeek_text_without_calls_is_content()
    {
        ToolCallParseResult result = new DeepSeekToolCallParser(Ids()).Parse("Just an answer <｜tool▁");
        Assert.False(result.HasToolCalls);
        Assert.Equal("Just an answer <｜tool▁", result.Content);
    }

    [Fact]
    public void DeepSeek_streaming_any_chunking_matches_whole_parse()
    {
        string text = "Checking <now>." + DeepSeekCalls;
        var random = new Random(42);
        for (int trial = 0; trial < 100; trial++)
        {
            IStreamingToolCallParser stream = new DeepSeekToolCallParser(Ids()).CreateStreamingParser();
            var content = new StringBuilder();
            var calls = new List<ChatToolCall>();
            int pos = 0;
            while (pos < text.Length)
            {
                int size = Math.Min(trial == 0 ? 1 : random.Next(1, 12), text.Length - pos);
                ToolCallParseResult delta = stream.Push(text.Substring(pos, size));
                content.Append(delta.Content);
                calls.AddRange(delta.ToolCalls);
                pos += size;
            }

            ToolCallParseResult last = stream.Finish();
            content.Append(last.Content);
            calls.AddRange(last.ToolCalls);
            Assert.Equal("Checking <now>.", content.ToString());
            Assert.Equal(
                [new ChatToolCall("call_1", "get_weather", "{\"city\": \"Paris\"}"), new ChatToolCall("call_2", "get_time", "{}")],
                calls);
        }
    }

    [Fact]
    public void DeepSeek_template_rendering_of_a_call_parses_back_to_the_same_call()
    {
        ChatTemplate template = ChatTemplateRenderingTests.Load("deepseek-r1.jinja");
        var call = new ChatToolCall("call_1", "get_weather", "{\"city\": \"Paris\", \"unit\": \"celsius\"}");
        string prompt = template.Render(
            [new ChatMessage("user", "Weather?"), new ChatMessage("assistant", null) { ToolCalls = [call] }],
            new ChatTemplateRenderOptions { AddGenerationPrompt = false });
        string generated = prompt[(prompt.IndexOf("<｜Assistant｜>", StringComparison.Ordinal) + "<｜Assistant｜>".Length)..]
            + "<｜tool▁calls▁end｜>";
        ToolCallParseResult parsed = template.CreateToolCallParser(() => "call_1")!.Parse(generated);
        Assert.Equal([call], parsed.ToolCalls);
    }

    [Fact]
    public void Llama31_template_rendering_of_a_call_parses_back_to_the_same_call()
    {
        ChatTemplate template = ChatTemplateRenderingTests.Load("llama-3.1-instruct.jinja");
        var call = new ChatToolCall("call_1", "get_weather", "{\"city\": \"Zürich\", \"unit\": \"celsius\"}");
        string prompt = template.Render(
            [new ChatMessage("user", "Weather?"), new ChatMessage("assistant", null) { ToolCalls = [call] }],
            new ChatTemplateRenderOptions { AddGenerationPrompt = false });
        const string Header = "<|start_header_id|>assistant<|end_header_id|>\n\n";
        int start = prompt.LastIndexOf(Header, StringComparison.Ordinal) + Header.Length;
        string generated = prompt[start..prompt.LastIndexOf("<|eot_id|>", StringComparison.Ordinal)];
        ToolCallParseResult parsed = template.CreateToolCallParser(() => "call_1")!.Parse(generated);
        Assert.Equal([call], parsed.ToolCalls);
    }
}
