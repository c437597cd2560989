using System.ComponentModel;
using System.Text.Json.Serialization;
using Fathom.Testing;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Tests.EngineIntegration;

/// <summary>
/// Semantic Kernel and MEAI against the real engine service (stories260K, started with a Llama-3-style template that
/// renders tools): <c>FunctionChoiceBehavior.Required()</c> and a named choice make even a 260K-parameter story model
/// call the C# plugin's function, Semantic Kernel invokes it and the conversation completes; <c>GetResponseAsync&lt;T&gt;</c>
/// deserializes a schema-constrained answer.
/// </summary>
public sealed class StructuredToolCallingTests(ToolTemplateEngineFixture engine) : IClassFixture<ToolTemplateEngineFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Cities the plugin knows: an enum, so the model's argument is one of them (a free string never ends).</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<City>))]
    public enum City
    {
        /// <summary>Lisbon.</summary>
        Lisbon,

        /// <summary>Oslo.</summary>
        Oslo,
    }

    /// <summary>What <c>GetResponseAsync&lt;T&gt;</c> asks for.</summary>
    /// <param name="Home">Where the pet lives.</param>
    /// <param name="Friendly">Whether it is friendly.</param>
    public sealed record Pet(City Home, bool Friendly);

    private sealed class WeatherPlugin
    {
        public List<string> Calls { get; } = [];

        [KernelFunction("get_weather")]
        [Description("Gets the weather.")]
        public string GetWeather(City city)
        {
            Calls.Add($"weather:{city}");
            return $"{city}: sunny";
        }

        [KernelFunction("get_time")]
        [Description("Gets the time.")]
        public string GetTime(City city)
        {
            Calls.Add($"time:{city}");
            return $"{city}: noon";
        }
    }

    private (SkKernel Kernel, WeatherPlugin Plugin) CreateKernel()
    {
        var builder = SkKernel.CreateBuilder().AddFathomChatCompletion(SharedFixtures.Stories260KName, engine.Require().BaseAddress);
        var plugin = new WeatherPlugin();
        builder.Plugins.AddFromObject(plugin, "w");
        return (builder.Build(), plugin);
    }

    [Fact]
    public async Task Required_function_choice_makes_the_model_call_the_plugin_and_the_conversation_completes()
    {
        var (kernel, plugin) = CreateKernel();
        var settings = new FathomPromptExecutionSettings
        {
            FunctionChoiceBehavior = FunctionChoiceBehavior.Required(options: new FunctionChoiceBehaviorOptions { AllowParallelCalls = false }),
            Temperature = 0,
            MaxTokens = 150,
        };

        var answer = await kernel.InvokePromptAsync("Weather?", new KernelArguments(settings), cancellationToken: Ct);

        var call = Assert.Single(plugin.Calls);
        Assert.Matches("^(weather|time):(Lisbon|Oslo)$", call);
        Assert.NotNull(answer.GetValue<string>()); // the model answered after the function's result came back
    }

    [Fact]
    public async Task A_named_function_choice_calls_that_function()
    {
        var (kernel, plugin) = CreateKernel();
        var getTime = kernel.Plugins.GetFunction("w", "get_time");
        var settings = new FathomPromptExecutionSettings
        {
            FunctionChoiceBehavior = FunctionChoiceBehavior.Required([getTime], options: new FunctionChoiceBehaviorOptions { AllowParallelCalls = false }),
            Temperature = 0,
            MaxTokens = 150,
        };

        await kernel.InvokePromptAsync("Weather?", new KernelArguments(settings), cancellationToken: Ct);

        Assert.Matches("^time:(Lisbon|Oslo)$", Assert.Single(plugin.Calls));
    }

    [Fact]
    public async Task GetResponseAsync_of_T_through_FathomChatClient_returns_a_deserialized_T()
    {
        using IChatClient client = new FathomChatClient(engine.Require().BaseAddress, SharedFixtures.Stories260KName);

        var response = await client.GetResponseAsync<Pet>("Tell me about a pet.", new ChatOptions { Temperature = 0, MaxOutputTokens = 300 }, cancellationToken: Ct);

        Assert.True(response.TryGetResult(out var pet), response.Text);
        Assert.True(Enum.IsDefined(pet!.Home));
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }
}
