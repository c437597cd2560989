using Fathom.Testing;
using System.Text;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>/v1/chat/completions through the official OpenAI client.</summary>
public sealed class ChatCompletionsTests(EngineServiceFixture fixture)
{
    private static readonly ChatMessage[] Conversation = [new UserChatMessage("Tell me a story about a cat.")];

    [Fact]
    public async Task A_greedy_completion_reports_text_usage_and_finish_reason()
    {
        var chat = fixture.Require().Chat();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };

        ChatCompletion completion = await chat.CompleteChatAsync(Conversation, options, TestContext.Current.CancellationToken);

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.Equal(completion.Usage.InputTokenCount + 12, completion.Usage.TotalTokenCount);
        Assert.Equal(SharedFixtures.Stories260KName, completion.Model);
    }

    [Fact]
    public async Task Streaming_gives_the_same_text_as_the_whole_response_and_usage_at_the_end()
    {
        var chat = fixture.Require().Chat();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 };
        ChatCompletion whole = await chat.CompleteChatAsync(Conversation, options, TestContext.Current.CancellationToken);

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(Conversation, options, TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(20, usage.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task A_repeated_prompt_reports_cached_tokens()
    {
        var chat = fixture.Require().Chat();
        ChatMessage[] longPrompt = [new UserChatMessage(string.Concat(Enumerable.Repeat("The little dog ran to the park and played with a ball. ", 6)))];
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 4 };

        ChatCompletion first = await chat.CompleteChatAsync(longPrompt, options, TestContext.Current.CancellationToken);
        ChatCompletion second = await chat.CompleteChatAsync(longPrompt, options, TestContext.Current.CancellationToken);

        Assert.True(first.Usage.InputTokenCount > 32);
        int cached = second.Usage.InputTokenDetails.CachedTokenCount;
        Assert.True(cached >= first.Usage.InputTokenCount - 16, $"only {cached} of {first.Usage.InputTokenCount} prompt tokens were cached");
        Assert.True(cached < first.Usage.InputTokenCount);
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
    }

    [Fact]
    public async Task The_same_seed_reproduces_a_sampled_completion()
    {
        var chat = fixture.Require().Chat();
#pragma warning disable OPENAI001 // Seed is marked experimental in the client
        ChatCompletionOptions Options(long seed) => new() { Temperature = 1.0f, MaxOutputTokenCount = 24, Seed = seed };
#pragma warning restore OPENAI001

        var a = await chat.CompleteChatAsync(Conversation, Options(7), TestContext.Current.CancellationToken);
        var b = await chat.CompleteChatAsync(Conversation, Options(7), TestContext.Current.CancellationToken);
        var others = new List<string>();
        for (int seed = 8; seed < 12; seed++)
        {
            others.Add((await chat.CompleteChatAsync(Conversation, Options(seed), TestContext.Current.CancellationToken)).Value.Content[0].Text);
        }

        Assert.Equal(a.Value.Content[0].Text, b.Value.Content[0].Text);
        Assert.Contains(others, o => o != a.Value.Content[0].Text);
    }

    [Fact]
    public async Task Logprobs_come_with_each_token_and_its_alternatives()
    {
        var chat = fixture.Require().Chat();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };

        ChatCompletion completion = await chat.CompleteChatAsync(Conversation, options, TestContext.Current.CancellationToken);

        var tokens = completion.ContentTokenLogProbabilities;
        Assert.Equal(8, tokens.Count);
        Assert.Equal(completion.Content[0].Text, string.Concat(tokens.Select(t => t.Token)));
        foreach (var token in tokens)
        {
            Assert.Equal(3, token.TopLogProbabilities.Count);
            Assert.True(token.LogProbability <= 0);
            // Greedy: the chosen token is the most likely alternative.
            Assert.Equal(token.TopLogProbabilities[0].Token, token.Token);
            Assert.Equal(token.TopLogProbabilities[0].LogProbability, token.LogProbability, 4);
            Assert.True(token.TopLogProbabilities[1].LogProbability <= token.TopLogProbabilities[0].LogProbability);
        }
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_text_before_it()
    {
        var chat = fixture.Require().Chat();
        var free = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };
        string text = (await chat.CompleteChatAsync(Conversation, free, TestContext.Current.CancellationToken)).Value.Content[0].Text;
        // A stop string from the middle of the greedy text, cut across token boundaries.
        string stop = text.Substring(text.Length / 2, 3);
        int at = text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24, StopSequences = { stop } };
        ChatCompletion completion = await chat.CompleteChatAsync(Conversation, stopped, TestContext.Current.CancellationToken);

        Assert.Equal(text[..at], completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }
}
