using System.Text.Json;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// The conversations <see cref="ChatTemplateCorpusTests"/> renders with every template: the shapes a server sends
/// (system, multi-turn, generation prompt on and off, tools, tool calls and results, parallel calls, reasoning,
/// <c>chat_template_kwargs</c>, awkward text).
/// </summary>
internal static class ChatTemplateConversations
{
    public sealed record Conversation(
        string Name, IReadOnlyList<ChatMessage> Messages, IReadOnlyList<JsonElement>? Tools = null, bool AddGenerationPrompt = true,
        IReadOnlyDictionary<string, object?>? Extra = null);

    private static readonly JsonElement[] WeatherTools =
    [
        Json("""{"type":"function","function":{"name":"get_weather","description":"Get the current weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name, e.g. Zürich"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}}"""),
        Json("""{"type":"function","function":{"name":"get_time","description":"Current time <UTC>.","parameters":{"type":"object","properties":{}}}}"""),
    ];

    private static readonly ChatToolCall WeatherCall = new("call_1", "get_weather", """{"city": "Zürich", "unit": "celsius"}""");
    private static readonly ChatToolCall TimeCall = new("call_2", "get_time", "{}");

    public static IReadOnlyList<Conversation> All { get; } =
    [
        new("user-only", [new("user", "Hello!")]),
        new("system-multi-turn",
        [
            new("system", "You are a helpful assistant."),
            new("user", "Hello! Who are you?"),
            new("assistant", "I am a helpful assistant."),
            new("user", "Tell me a joke."),
        ]),
        new("ends-with-assistant-no-generation-prompt",
        [
            new("system", "Be brief."),
            new("user", "What is 2+2?"),
            new("assistant", "4"),
        ], AddGenerationPrompt: false),
        new("tools-offered",
        [
            new("system", "You can call tools."),
            new("user", "What's the weather in Zürich?"),
        ], WeatherTools),
        new("tool-call-and-result",
        [
            new("user", "What's the weather in Zürich?"),
            new("assistant", null) { ToolCalls = [WeatherCall] },
            new("tool", """{"temperature": 18}""") { ToolCallId = "call_1", Name = "get_weather" },
        ], WeatherTools),
        new("parallel-calls-then-answer",
        [
            new("system", "You can call tools."),
            new("user", "Weather and time?"),
            new("assistant", "Let me check.") { ToolCalls = [WeatherCall, TimeCall] },
            new("tool", "18 degrees") { ToolCallId = "call_1", Name = "get_weather" },
            new("tool", "12:00") { ToolCallId = "call_2", Name = "get_time" },
            new("assistant", "It is 18 °C at noon."),
            new("user", "Thanks!"),
        ], WeatherTools),
        new("reasoning-history",
        [
            new("user", "Is 7 prime?"),
            new("assistant", "<think>\nDivisors of 7: 1 and 7.\n</think>\n\nYes, 7 is prime.") { ReasoningContent = "Divisors of 7: 1 and 7." },
            new("user", "And 9?"),
        ]),
        new("kwargs-no-thinking", [new("user", "Quick answer: capital of France?")],
            Extra: new Dictionary<string, object?> { ["enable_thinking"] = false }),
        new("nested-arguments-and-named-user",
        [
            new("system", "First system."),
            new("user", "Plan a trip.") { Name = "ann" },
            new("assistant", "") { ToolCalls = [new("call_9", "plan", """{"stops": [{"city": "Genève", "days": 2.5, "booked": true, "note": null}], "budget": 1200, "tags": ["a\"b", "ü"]}""")] },
            new("tool", "[]") { ToolCallId = "call_9", Name = "plan" },
            new("user", ""),
        ], WeatherTools),
        new("reasoning-content-only",
        [
            new("user", "Hi"),
            new("assistant", "Hello! How can I help?") { ReasoningContent = "The user greets me." },
            new("user", "Bye"),
            new("assistant", "Goodbye."),
        ], AddGenerationPrompt: false),
        new("awkward-text",
        [
            new("system", "  Leading and trailing spaces  \n"),
            new("user", "Zürich 😀 <tag> \"quotes\" 'single' {{ braces }} {% tag %} \\ back\nslash\t tab"),
        ]),
    ];

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
