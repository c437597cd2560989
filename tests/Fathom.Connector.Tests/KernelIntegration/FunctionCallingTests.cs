using System.ComponentModel;
using System.Text;
using System.Text.Json.Nodes;
using Fathom.Connector.Tests.Support;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Tests.KernelIntegration;

/// <summary>
/// <c>FunctionChoiceBehavior.Auto()</c> end to end: the scripted server first asks for a tool call, Semantic Kernel
/// runs the kernel function, the next request carries its result, and the scripted final answer comes back.
/// </summary>
public sealed class FunctionCallingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class WeatherPlugin
    {
        public List<string> Calls { get; } = [];

        [KernelFunction("get_weather")]
        [Description("Gets the current weather for a city.")]
        public string GetWeather([Description("The city name")] string city)
        {
            Calls.Add(city);
            return $"{city}: 21 degrees and sunny";
        }
    }

    private static (SkKernel Kernel, WeatherPlugin Plugin) CreateKernel(Uri endpoint)
    {
        var builder = SkKernel.CreateBuilder().AddFathomChatCompletion("llama-3", endpoint);
        var plugin = new WeatherPlugin();
        builder.Plugins.AddFromObject(plugin, "weather");
        return (builder.Build(), plugin);
    }

    /// <summary>The first reply calls whatever tool the request offered, under the name the request gave it.</summary>
    private static ScriptedReply CallOfferedTool(JsonObject request)
    {
        var tool = request["tools"]!.AsArray().Single()!;
        var name = (string)tool["function"]!["name"]!;
        return new ScriptedReply(ToolCalls: [new ScriptedToolCall("call_42", name, """{"city":"Lisbon"}""")]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Auto_function_choice_runs_the_kernel_function_and_returns_its_result_to_the_model(bool streaming)
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(CallOfferedTool);
        server.Enqueue(new ScriptedReply(Text: "It is sunny in Lisbon."));
        var (kernel, plugin) = CreateKernel(server.BaseAddress);
        var settings = new FathomPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(), Temperature = 0 };

        string answer;
        if (streaming)
        {
            var text = new StringBuilder();
            await foreach (var chunk in kernel.InvokePromptStreamingAsync<string>("Weather in Lisbon?", new KernelArguments(settings), cancellationToken: Ct))
            {
                text.Append(chunk);
            }

            answer = text.ToString();
        }
        else
        {
            answer = (await kernel.InvokePromptAsync("Weather in Lisbon?", new KernelArguments(settings), cancellationToken: Ct)).GetValue<string>()!;
        }

        Assert.Equal("It is sunny in Lisbon.", answer);
        Assert.Equal(["Lisbon"], plugin.Calls);
        Assert.Equal(2, server.Requests.Count);

        var offered = server.Requests[0]["tools"]!.AsArray().Single()!["function"]!;
        Assert.Contains("get_weather", (string)offered["name"]!);
        Assert.Equal("Gets the current weather for a city.", (string?)offered["description"]);
        Assert.Equal("string", (string?)offered["parameters"]!["properties"]!["city"]!["type"]);
        Assert.Equal("auto", (string?)server.Requests[0]["tool_choice"]);

        var followUp = server.Requests[1]["messages"]!.AsArray();
        var call = followUp.Single(m => (string?)m!["role"] == "assistant")!["tool_calls"]!.AsArray().Single()!;
        Assert.Equal("call_42", (string?)call["id"]);
        Assert.Equal("Lisbon", (string?)JsonNode.Parse((string)call["function"]!["arguments"]!)!["city"]);
        var result = followUp.Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal("call_42", (string?)result["tool_call_id"]);
        Assert.Contains("Lisbon: 21 degrees and sunny", (string)result["content"]!);
    }

    [Fact]
    public async Task Chat_completion_service_with_auto_functions_adds_the_calls_to_the_history()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(CallOfferedTool);
        server.Enqueue(new ScriptedReply(Text: "Sunny."));
        var (kernel, plugin) = CreateKernel(server.BaseAddress);
        var chat = kernel.GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage("Weather in Lisbon?");

        var reply = await chat.GetChatMessageContentAsync(
            history, new FathomPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, kernel, Ct);

        Assert.Equal("Sunny.", reply.Content);
        Assert.Equal(["Lisbon"], plugin.Calls);
        Assert.Contains(history, m => m.Items.OfType<FunctionCallContent>().Any(c => c.Id == "call_42"));
        Assert.Contains(history, m => m.Items.OfType<FunctionResultContent>().Any(r => r.CallId == "call_42"));
    }
}
