using Fathom.Testing;
using System.Text;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>Continuous batching must not change what a request generates: batch-invariant kernels make it so.</summary>
public sealed class ConcurrencyTests(EngineServiceFixture fixture)
{
    private static readonly string[] Names = ["Lily", "Tom", "Sue", "Ben", "Max", "Mia", "Sam", "Tim"];
    private static readonly string[] Things = ["a ball", "a cat", "a big tree", "the sea"];

    [Fact]
    public async Task Thirty_two_simultaneous_streams_each_equal_their_solo_run()
    {
        var chat = fixture.Require().Chat();
        var prompts = Enumerable.Range(0, 32).Select(i => $"{Names[i % Names.Length]} saw {Things[i / Names.Length]} and").ToArray();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 24 };

        var solo = new List<string>();
        foreach (string prompt in prompts)
        {
            solo.Add(await StreamAsync(chat, prompt, options));
        }

        var together = await Task.WhenAll(prompts.Select(p => Task.Run(() => StreamAsync(chat, p, options), TestContext.Current.CancellationToken)));

        Assert.Equal(solo, together);
        Assert.True(solo.Distinct().Count() > 1, "the prompts should lead to different texts");
    }

    private static async Task<string> StreamAsync(ChatClient chat, string prompt, ChatCompletionOptions options)
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(prompt)], options, TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.NotNull(finish);
        return text.ToString();
    }
}
