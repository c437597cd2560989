using System.Text.Json;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Tools;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// The bundled DeepSeek-R1 tool template: chosen when a model of that family gets tools (its own template renders
/// none), it lists the tools, asks for the syntax the DeepSeek tool-call parser reads, and renders a tool round trip.
/// </summary>
public sealed class BundledChatTemplateTests
{
    private const string Bos = "<｜begin▁of▁sentence｜>";

    private static readonly JsonElement WeatherTool = JsonDocument.Parse(
        """{"type":"function","function":{"name":"get_weather","description":"Weather of a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}""")
        .RootElement.Clone();

    private static ChatTemplate Bundled => BundledChatTemplates.ForTools(ChatTemplateFamily.DeepSeekR1)!;

    [Fact]
    public void The_DeepSeek_R1_models_own_template_reads_no_tools_and_its_family_gets_the_bundled_one()
    {
        ChatTemplate own = ChatTemplateRenderingTests.Load("deepseek-r1.jinja");
        var format = new GgufChatFormat(own, Bos, "<｜end▁of▁sentence｜>");

        Assert.False(own.RendersTools);
        Assert.Equal(ChatTemplateFamily.DeepSeekR1, own.Family);
        Assert.Same(Bundled, format.TemplateForTools());
        Assert.True(Bundled.RendersTools);
        Assert.Equal(ChatTemplateFamily.DeepSeekR1, Bundled.Family);
    }

    [Fact]
    public void A_template_that_reads_tools_is_kept_and_one_of_no_known_family_is_refused()
    {
        ChatTemplate llama31 = ChatTemplateRenderingTests.Load("llama-3.1-instruct.jinja");
        ChatTemplate qwen2 = ChatTemplateRenderingTests.Load("qwen2-instruct-chatml.jinja");

        Assert.True(llama31.RendersTools);
        Assert.Same(llama31, new GgufChatFormat(llama31, "", "").TemplateForTools());
        Assert.False(qwen2.RendersTools);
        var error = Assert.Throws<ToolsNotRenderedException>(() => new GgufChatFormat(qwen2, "", "").TemplateForTools());
        Assert.Contains("--chat-template", error.Message, StringComparison.Ordinal);
        Assert.Throws<ToolsNotRenderedException>(() => new GgufChatFormat(ChatTemplate.Fallback, "", "").TemplateForTools());
    }

    [Fact]
    public void A_model_without_a_template_but_with_DeepSeek_R1s_vocabulary_gets_the_bundled_template()
    {
        var format = new GgufChatFormat(ChatTemplate.Fallback, "", "") { VocabularyFamily = ChatTemplateFamily.DeepSeekR1 };

        Assert.Equal(ChatTemplateFamily.DeepSeekR1, format.Family);
        Assert.Same(Bundled, format.TemplateForTools());
    }

    [Fact]
    public void Tools_are_listed_in_the_system_section_with_the_call_syntax_and_the_prompt_opens_thinking()
    {
        string prompt = Bundled.Render(
            [new ChatMessage("system", "Be brief."), new ChatMessage("user", "Weather in Zürich?")],
            new ChatTemplateRenderOptions { BosToken = Bos, Tools = [WeatherTool] });

        Assert.StartsWith(Bos + "Be brief.\n\n## Tools\n", prompt, StringComparison.Ordinal);
        Assert.Contains("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>FUNCTION_NAME\n```json\n", prompt, StringComparison.Ordinal);
        Assert.Contains("""{"name": "get_weather", "description": "Weather of a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}""", prompt, StringComparison.Ordinal);
        Assert.EndsWith("<｜User｜>Weather in Zürich?<｜Assistant｜><think>\n", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendered_tool_calls_are_read_back_by_the_DeepSeek_parser_and_results_close_before_the_next_turn()
    {
        ChatToolCall[] calls = [new("call-1", "get_weather", """{"city": "Zürich"}"""), new("call-2", "get_weather", """{"city": "Bern"}""")];
        string prompt = Bundled.Render(
        [
            new ChatMessage("user", "Weather in Zürich and Bern?"),
            new ChatMessage("assistant", "<think>Two cities.</think>") { ToolCalls = calls },
            new ChatMessage("tool", "18 °C") { ToolCallId = "call-1" },
            new ChatMessage("tool", "17 °C") { ToolCallId = "call-2" },
        ], new ChatTemplateRenderOptions { BosToken = Bos, Tools = [WeatherTool] });

        // The assistant turn as the model would have written it (reasoning cut, as the original template cuts it).
        int start = prompt.IndexOf("<｜Assistant｜><｜tool▁calls▁begin｜>", StringComparison.Ordinal) + "<｜Assistant｜>".Length;
        int end = prompt.IndexOf("<｜end▁of▁sentence｜>", start, StringComparison.Ordinal);
        ToolCallParseResult parsed = new DeepSeekToolCallParser(() => "id").Parse(prompt[start..end]);

        Assert.Null(parsed.Content);
        Assert.Equal(["get_weather", "get_weather"], parsed.ToolCalls.Select(c => c.Name));
        Assert.Equal(["""{"city": "Zürich"}""", """{"city": "Bern"}"""], parsed.ToolCalls.Select(c => c.Arguments));
        Assert.DoesNotContain("Two cities", prompt, StringComparison.Ordinal);
        Assert.EndsWith(
            "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>18 °C<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>17 °C<｜tool▁output▁end｜><｜tool▁outputs▁end｜><｜Assistant｜><think>\n",
            prompt, StringComparison.Ordinal);
    }
}
