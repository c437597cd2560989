using System.Text;
using System.Text.Json.Nodes;
using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.TextGeneration;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Tests.KernelIntegration;

/// <summary>A real Semantic Kernel <see cref="SkKernel"/> → the connector → a real HTTP server on loopback.</summary>
public sealed class KernelIntegrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InvokePromptAsync_returns_the_answer_and_sends_the_prompt()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "Once upon a time there was a fox."));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("stories260K", server.BaseAddress, apiKey: "secret").Build();

        var result = await kernel.InvokePromptAsync("Tell me a story about a fox.", cancellationToken: Ct);

        Assert.Equal("Once upon a time there was a fox.", result.GetValue<string>());
        var request = Assert.Single(server.Requests);
        Assert.Equal("stories260K", (string?)request["model"]);
        var message = Assert.Single(request["messages"]!.AsArray())!;
        Assert.Equal("user", (string?)message["role"]);
        Assert.Equal("Tell me a story about a fox.", (string?)message["content"]);
        Assert.Equal("Bearer secret", Assert.Single(server.AuthorizationHeaders));
    }

    [Fact]
    public async Task Execution_settings_reach_the_wire()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "{}"));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", new Uri(server.BaseAddress, "v1")).Build();
        var settings = new FathomPromptExecutionSettings
        {
            Temperature = 0f,
            TopP = 0.95f,
            TopK = 20,
            MinP = 0.05f,
            MaxTokens = 48,
            Seed = 7,
            StopSequences = ["###"],
            FrequencyPenalty = 0.25f,
            PresencePenalty = 0.5f,
            RepetitionPenalty = 1.15f,
            ResponseFormat = "json_object",
        };

        await kernel.InvokePromptAsync("Reply in JSON.", new KernelArguments(settings), cancellationToken: Ct);

        var body = Assert.Single(server.Requests);
        Assert.Equal(0, (double)body["temperature"]!);
        Assert.Equal(0.95, (double)body["top_p"]!, 5);
        Assert.Equal(20, (int)body["top_k"]!);
        Assert.Equal(0.05, (double)body["min_p"]!, 5);
        Assert.Equal(48, (int)body["max_tokens"]!);
        Assert.Equal(7, (long)body["seed"]!);
        Assert.Equal("###", (string?)Assert.Single(body["stop"]!.AsArray()));
        Assert.Equal(0.25, (double)body["frequency_penalty"]!, 5);
        Assert.Equal(0.5, (double)body["presence_penalty"]!, 5);
        Assert.Equal(1.15, (double)body["repetition_penalty"]!, 5);
        Assert.Equal("json_object", (string?)body["response_format"]!["type"]);
    }

    [Fact]
    public async Task Settings_from_a_prompt_template_config_use_snake_case_names()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "ok"));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();
        var generic = new PromptExecutionSettings
        {
            ExtensionData = new Dictionary<string, object> { ["temperature"] = 0.3, ["top_k"] = 5, ["max_tokens"] = 12, ["min_p"] = 0.1 },
        };

        var fathom = FathomPromptExecutionSettings.FromExecutionSettings(generic);
        await kernel.InvokePromptAsync("x", new KernelArguments(fathom), cancellationToken: Ct);

        Assert.Equal(0.3f, fathom.Temperature);
        Assert.Equal(5, fathom.TopK);
        var body = Assert.Single(server.Requests);
        Assert.Equal(12, (int)body["max_tokens"]!);
        Assert.Equal(5, (int)body["top_k"]!);
        Assert.Equal(0.1, (double)body["min_p"]!, 5);
    }

    [Fact]
    public async Task Streaming_prompt_yields_the_answer_without_the_reasoning()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "Blue, because of Rayleigh scattering.", Reasoning: "Short wavelengths scatter more."));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("deepseek-r1", server.BaseAddress).Build();
        var text = new StringBuilder();

        await foreach (var chunk in kernel.InvokePromptStreamingAsync<string>("Why is the sky blue?", cancellationToken: Ct))
        {
            text.Append(chunk);
        }

        Assert.Equal("Blue, because of Rayleigh scattering.", text.ToString());
        Assert.True((bool)Assert.Single(server.Requests)["stream"]!);
    }

    [Fact]
    public async Task Non_streaming_chat_keeps_reasoning_apart_from_the_content()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "42", Reasoning: "6 times 7."));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("deepseek-r1", server.BaseAddress).Build();
        var chat = kernel.GetRequiredService<IChatCompletionService>();

        var reply = await chat.GetChatMessageContentAsync("6*7?", kernel: kernel, cancellationToken: Ct);

        Assert.Equal("42", reply.Content);
        Assert.DoesNotContain("6 times 7.", reply.Content);
    }

    [Fact]
    public async Task Chat_history_is_sent_in_order_and_streaming_chat_works()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "Your name is Ada."));
        server.Enqueue(new ScriptedReply(Text: "You told me."));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();
        var chat = kernel.GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory("You remember names.");
        history.AddUserMessage("I am Ada.");
        history.AddAssistantMessage("Hello Ada.");
        history.AddUserMessage("What is my name?");

        var first = await chat.GetChatMessageContentAsync(history, kernel: kernel, cancellationToken: Ct);
        history.Add(first);
        history.AddUserMessage("How do you know?");
        var streamed = new StringBuilder();
        await foreach (var chunk in chat.GetStreamingChatMessageContentsAsync(history, kernel: kernel, cancellationToken: Ct))
        {
            streamed.Append(chunk.Content);
        }

        Assert.Equal("Your name is Ada.", first.Content);
        Assert.Equal("You told me.", streamed.ToString());
        var second = server.Requests[1]["messages"]!.AsArray();
        Assert.Equal(["system", "user", "assistant", "user", "assistant", "user"], second.Select(m => (string)m!["role"]!));
        Assert.Equal(["You remember names.", "I am Ada.", "Hello Ada.", "What is my name?", "Your name is Ada.", "How do you know?"], second.Select(m => (string)m!["content"]!));
    }

    [Fact]
    public async Task Text_generation_service_is_registered_and_works()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "a complete sentence", FinishReason: "length"));
        server.Enqueue(new ScriptedReply(Text: "streamed text"));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();
        var text = kernel.GetRequiredService<ITextGenerationService>();

        var result = await text.GetTextContentAsync("Complete:", new FathomPromptExecutionSettings { MaxTokens = 3 }, kernel, Ct);
        var streamed = new StringBuilder();
        await foreach (var chunk in text.GetStreamingTextContentsAsync("Stream:", cancellationToken: Ct))
        {
            streamed.Append(chunk.Text);
        }

        Assert.Equal("a complete sentence", result.Text);
        Assert.Equal("length", result.Metadata!["FinishReason"]);
        Assert.Equal("streamed text", streamed.ToString());
        Assert.Equal(3, (int)server.Requests[0]["max_tokens"]!);
        Assert.Equal("m", text.Attributes["ModelId"]);
    }

    [Fact]
    public async Task Service_ids_select_between_two_registrations()
    {
        await using var small = await ScriptedOpenAiServer.StartAsync(Ct);
        await using var large = await ScriptedOpenAiServer.StartAsync(Ct);
        small.Enqueue(new ScriptedReply(Text: "from small"));
        large.Enqueue(new ScriptedReply(Text: "from large"));
        var kernel = SkKernel.CreateBuilder()
            .AddFathomChatCompletion("stories260K", small.BaseAddress, serviceId: "small")
            .AddFathomChatCompletion("deepseek-r1-70b", large.BaseAddress, serviceId: "large")
            .Build();

        var answer = await kernel.InvokePromptAsync("hi", new KernelArguments(new FathomPromptExecutionSettings { ServiceId = "large" }), cancellationToken: Ct);

        Assert.Equal("from large", answer.GetValue<string>());
        Assert.Empty(small.Requests);
        Assert.Equal("deepseek-r1-70b", (string?)Assert.Single(large.Requests)["model"]);
    }
}
