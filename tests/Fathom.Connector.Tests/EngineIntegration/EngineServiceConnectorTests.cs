using System.Text;
using Fathom.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Tests.EngineIntegration;

/// <summary>
/// A real Semantic Kernel <see cref="SkKernel"/> → the connector → the real engine service (stories260K) on loopback;
/// Semantic Kernel's stock OpenAI connector gives the same answers (embedded mode: Fathom.Connector.Embedded.Tests).
/// </summary>
public sealed class EngineServiceConnectorTests(EngineServiceFixture engine) : IClassFixture<EngineServiceFixture>
{
    private const string Prompt = "Once upon a time";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private SkKernel ServerKernel() => SkKernel.CreateBuilder()
        .AddFathomChatCompletion(SharedFixtures.Stories260KName, engine.BaseAddress).Build();

    private static FathomPromptExecutionSettings Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };

    [Fact]
    public async Task InvokePromptAsync_at_temperature_0_is_reproducible_and_max_tokens_reaches_the_engine()
    {
        engine.Require();
        var kernel = ServerKernel();
        var first = await kernel.InvokePromptAsync(Prompt, new KernelArguments(Greedy(24)), cancellationToken: Ct);
        var second = await kernel.InvokePromptAsync(Prompt, new KernelArguments(Greedy(24)), cancellationToken: Ct);
        var text = first.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.Equal(text, second.GetValue<string>());

        var client = kernel.Services.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync(Prompt, new ChatOptions { Temperature = 0, MaxOutputTokens = 5 }, Ct);
        Assert.Equal(5, response.Usage?.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
    }

    [Fact]
    public async Task Streaming_yields_the_same_text_as_a_whole_answer()
    {
        engine.Require();
        var chat = ServerKernel().GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory();
        history.AddUserMessage(Prompt);
        var whole = await chat.GetChatMessageContentAsync(history, Greedy(32), cancellationToken: Ct);
        var streamed = new StringBuilder();
        var chunks = 0;
        await foreach (var chunk in chat.GetStreamingChatMessageContentsAsync(history, Greedy(32), cancellationToken: Ct))
        {
            streamed.Append(chunk.Content);
            chunks++;
        }

        Assert.True(chunks > 2, $"expected a stream of chunks, got {chunks}");
        Assert.Equal(whole.Content, streamed.ToString());
    }

    [Fact]
    public async Task A_chat_history_is_sent_whole_and_a_seed_reproduces_a_sampled_answer()
    {
        engine.Require();
        var client = ServerKernel().GetRequiredService<IChatClient>();
        List<Microsoft.Extensions.AI.ChatMessage> history =
        [
            new(ChatRole.System, "You tell short stories."),
            new(ChatRole.User, "Tell me about a cat."),
            new(ChatRole.Assistant, "The cat sat on the mat."),
            new(ChatRole.User, "And then?"),
        ];
        var single = await client.GetResponseAsync("And then?", new ChatOptions { Temperature = 0, MaxOutputTokens = 4 }, Ct);
        var sampled = new ChatOptions { Temperature = 1f, Seed = 1234, MaxOutputTokens = 24 };
        var a = await client.GetResponseAsync(history, sampled, Ct);
        var b = await client.GetResponseAsync(history, sampled, Ct);

        Assert.True(a.Usage?.InputTokenCount > single.Usage?.InputTokenCount + 10, "the whole history reaches the prompt");
        Assert.Equal(a.Text, b.Text);
    }

    [Fact]
    public async Task Semantic_Kernels_stock_OpenAI_connector_works_against_Fathom()
    {
        engine.Require();
        var expected = (await ServerKernel().InvokePromptAsync(Prompt, new KernelArguments(Greedy(24)), cancellationToken: Ct)).GetValue<string>();
        var openAi = SkKernel.CreateBuilder()
            .AddOpenAIChatCompletion(SharedFixtures.Stories260KName, new Uri(engine.BaseAddress, "v1"), apiKey: "unused")
            .Build();
        var settings = new OpenAIPromptExecutionSettings { Temperature = 0, MaxTokens = 24 };

        var actual = await openAi.InvokePromptAsync(Prompt, new KernelArguments(settings), cancellationToken: Ct);

        Assert.Equal(expected, actual.GetValue<string>());
    }
}
