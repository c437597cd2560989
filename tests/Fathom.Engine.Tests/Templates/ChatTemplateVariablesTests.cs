using System.Text.Json;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Tests.Templates;

/// <summary><see cref="ChatTemplateVariables"/>: <c>chat_template_kwargs</c> reach the template, within bounds and never over its own variables.</summary>
public sealed class ChatTemplateVariablesTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void Variables_reach_the_render_as_python_values()
    {
        var template = ChatTemplate.Parse("{{ 'think' if enable_thinking is not defined or enable_thinking else 'no-think' }}|{{ date_string }}|{{ opts.n + 1 }}");
        var variables = ChatTemplateVariables.FromJson(Json("""{"enable_thinking": false, "date_string": "7 Dec 2026", "opts": {"n": 41}}"""));

        string rendered = template.Render([new ChatMessage("user", "hi")], new ChatTemplateRenderOptions { ExtraVariables = variables });

        Assert.Equal("no-think|7 Dec 2026|42", rendered);
        Assert.Equal("think||", ChatTemplate.Parse("{{ 'think' if enable_thinking is not defined or enable_thinking else 'no-think' }}|{{ date_string }}|")
            .Render([new ChatMessage("user", "hi")]));
    }

    [Theory]
    [InlineData("""{"messages": []}""", "\"messages\"")]
    [InlineData("""{"tools": null}""", "\"tools\"")]
    [InlineData("""{"bos_token": "x"}""", "\"bos_token\"")]
    [InlineData("""{"add_generation_prompt": false}""", "\"add_generation_prompt\"")]
    [InlineData("""{"raise_exception": 1}""", "\"raise_exception\"")]
    [InlineData("""{"not an identifier": 1}""", "\"not an identifier\"")]
    [InlineData("""{"9lives": 1}""", "\"9lives\"")]
    [InlineData("""{"a": 1, "a": 2}""", "given twice")]
    [InlineData("[1]", "JSON object")]
    public void Reserved_invalid_or_repeated_names_are_refused_by_name(string json, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ChatTemplateVariables.FromJson(Json(json)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Counts_and_sizes_are_bounded_by_the_limits()
    {
        var limits = new ChatTemplateLimits { MaxExtraVariables = 2, MaxExtraVariablesLength = 10 };

        Assert.Equal(2, ChatTemplateVariables.FromJson(Json("""{"a": 1, "b": "xy"}"""), limits).Count);
        Assert.Contains("At most 2", Assert.Throws<ArgumentException>(() => ChatTemplateVariables.FromJson(Json("""{"a": 1, "b": 2, "c": 3}"""), limits)).Message, StringComparison.Ordinal);
        Assert.Contains("\"b\" crosses", Assert.Throws<ArgumentException>(() => ChatTemplateVariables.FromJson(Json("""{"a": 1, "b": "0123456789"}"""), limits)).Message, StringComparison.Ordinal);
    }
}
