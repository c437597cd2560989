using System.ClientModel;
using System.Text;
using System.Text.Json;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests.StructuredOutputs;

/// <summary>
/// <c>tool_choice</c> through the official client against the real engine service, with a Llama-3-style template that
/// renders tools: <c>required</c> and a named function are enforced in the family's call syntax with the arguments
/// constrained by the function's parameters schema; <c>none</c> reads no calls; <c>parallel_tool_calls</c> is honoured.
/// </summary>
public sealed class ToolChoiceTests(ToolTemplateEngineFixture engine) : IClassFixture<ToolTemplateEngineFixture>
{
    internal const string WeatherParameters =
        """{"type":"object","properties":{"city":{"type":"string","enum":["Lisbon","Paris","Oslo"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"],"additionalProperties":false}""";

    internal const string TimeParameters =
        """{"type":"object","properties":{"zone":{"type":"string","pattern":"^[A-Z]{3}$"}},"required":["zone"],"additionalProperties":false}""";

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Weather.", BinaryData.FromString(WeatherParameters));
    private static readonly ChatTool Time = ChatTool.CreateFunctionTool("get_time", "Time.", BinaryData.FromString(TimeParameters));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ChatClient Client() => new(SharedFixtures.Stories260KName, new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(engine.Require().BaseAddress, "v1"), NetworkTimeout = TimeSpan.FromMinutes(5) });

    private static ChatCompletionOptions Options(ChatToolChoice choice, bool? parallel = false)
    {
        var options = new ChatCompletionOptions { ToolChoice = choice, Temperature = 0, MaxOutputTokenCount = 200, AllowParallelToolCalls = parallel };
        options.Tools.Add(Weather);
        options.Tools.Add(Time);
        return options;
    }

    [Fact]
    public async Task Required_makes_the_model_call_a_tool_with_arguments_its_schema_accepts()
    {
        ChatCompletion answer = await Client().CompleteChatAsync([new UserChatMessage("Hi.")], Options(ChatToolChoice.CreateRequiredChoice()), Ct);
        Assert.Equal(ChatFinishReason.ToolCalls, answer.FinishReason);
        var call = Assert.Single(answer.ToolCalls);
        Assert.Contains(call.FunctionName, new[] { "get_weather", "get_time" });
        StructuredOutputTests.AssertValid(call.FunctionName == "get_weather" ? WeatherParameters : TimeParameters, call.FunctionArguments.ToString());
    }

    [Fact]
    public async Task A_named_choice_calls_that_function_streamed_or_not()
    {
        var options = Options(ChatToolChoice.CreateFunctionChoice("get_time"));
        ChatCompletion answer = await Client().CompleteChatAsync([new UserChatMessage("What is the weather?")], options, Ct);
        Assert.Equal(ChatFinishReason.ToolCalls, answer.FinishReason);
        var call = Assert.Single(answer.ToolCalls);
        Assert.Equal("get_time", call.FunctionName);
        StructuredOutputTests.AssertValid(TimeParameters, call.FunctionArguments.ToString());

        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        await foreach (var update in Client().CompleteChatStreamingAsync([new UserChatMessage("What is the weather?")], Options(ChatToolChoice.CreateFunctionChoice("get_time")), Ct))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                if (part.FunctionName is { } name)
                {
                    names[part.Index] = name;
                }

                (arguments.TryGetValue(part.Index, out var sb) ? sb : arguments[part.Index] = new StringBuilder()).Append(part.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("get_time", Assert.Single(names).Value);
        Assert.Equal(call.FunctionArguments.ToString(), arguments[names.Keys.Single()].ToString());
    }

    [Fact]
    public async Task Parallel_tool_calls_allow_several_calls_and_false_exactly_one()
    {
        // Unconstrained by a limit, the story model keeps calling until max_tokens cuts a call short; with a budget
        // that ends mid-call, the complete calls before it are the answer only when parallel calls are allowed.
        ChatCompletion single = await Client().CompleteChatAsync([new UserChatMessage("Weather in two cities.")],
            Options(ChatToolChoice.CreateFunctionChoice("get_weather"), parallel: false), Ct);
        Assert.Single(single.ToolCalls);
        Assert.Equal(ChatFinishReason.ToolCalls, single.FinishReason);

        var (status, body) = await engine.PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Weather in two cities." } },
            tools = new[] { new { type = "function", function = new { name = "get_weather", parameters = JsonDocument.Parse(WeatherParameters).RootElement } } },
            tool_choice = "required",
            parallel_tool_calls = true,
            temperature = 1.0,
            seed = 5,
            max_tokens = 200,
        });
        Assert.Equal(200, status);
        string text = JsonSerializer.Serialize(body);
        var message = body.GetProperty("choices")[0].GetProperty("message");
        // Every call the parser found is a get_weather call with valid arguments, and the raw text allowed more than one.
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
                StructuredOutputTests.AssertValid(WeatherParameters, call.GetProperty("function").GetProperty("arguments").GetString()!);
            }
        }
        else
        {
            // Cut short mid-call: the text holds at least two calls' openings (the grammar allowed a second one).
            string content = message.GetProperty("content").GetString()!;
            Assert.True(content.Split("\"name\": \"get_weather\"").Length > 2, text);
        }
    }

    [Fact]
    public async Task None_reads_no_calls_and_auto_leaves_the_choice_to_the_model()
    {
        ChatCompletion none = await Client().CompleteChatAsync([new UserChatMessage("Hi.")], Options(ChatToolChoice.CreateNoneChoice(), parallel: null), Ct);
        Assert.Empty(none.ToolCalls);
        Assert.NotEqual(ChatFinishReason.ToolCalls, none.FinishReason);

        ChatCompletion auto = await Client().CompleteChatAsync([new UserChatMessage("Hi.")], Options(ChatToolChoice.CreateAutoChoice(), parallel: null), Ct);
        Assert.Equal(auto.ToolCalls.Count > 0, auto.FinishReason == ChatFinishReason.ToolCalls);
    }

    [Fact]
    public async Task A_named_function_that_is_not_offered_and_an_unsupported_parameters_keyword_are_400s()
    {
        var (status, body) = await engine.Require().PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            tools = new[] { new { type = "function", function = new { name = "get_weather", parameters = JsonDocument.Parse(WeatherParameters).RootElement } } },
            tool_choice = new { type = "function", function = new { name = "launch" } },
        });
        Assert.Equal(400, status);
        Assert.Equal("tool_choice", body.GetProperty("error").GetProperty("param").GetString());

        (status, body) = await engine.PostAsync("/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hi" } },
            tools = new[] { new { type = "function", function = new { name = "f", parameters = new { type = "object", not = new { type = "null" } } } } },
            tool_choice = "required",
        });
        Assert.Equal(400, status);
        Assert.Equal("tools", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("'not'", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
