using System.Text;

namespace Fathom.OpenAi.Protocol.Tests;

/// <summary>The event framing OpenAI clients parse, and a flush per event so that streamed tokens are not held back.</summary>
public sealed class ServerSentEventsTests
{
    [Fact]
    public async Task Each_chunk_is_one_data_event_flushed_before_the_next_and_the_stream_ends_with_done()
    {
        var body = new FlushRecordingStream();
        var chunks = new[]
        {
            ChatCompletionChunk.Opening("ID", 0, "m", 0, includeUsage: false),
            ChatCompletionChunk.Delta("ID", 0, "m", 0, ChatDelta.Of("a\nb"), null, FinishReasons.Stop, calledTools: false, includeUsage: false),
        };

        await OpenAiServerSentEvents.WriteAsync(body, chunks.ToAsyncEnumerable(), OpenAiJsonContext.Wire.ChatCompletionChunk, TestContext.Current.CancellationToken);

        string first = """data: {"id":"ID","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""" + "\n\n";
        string second = """data: {"id":"ID","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"a\nb"},"logprobs":null,"finish_reason":"stop"}]}""" + "\n\n";
        const string Done = "data: [DONE]\n\n";
        Assert.Equal(first + second + Done, Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal([first.Length, first.Length + second.Length, first.Length + second.Length + Done.Length], body.FlushedAt);
    }

    private sealed class FlushRecordingStream : MemoryStream
    {
        public List<int> FlushedAt { get; } = [];

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            if (FlushedAt.Count == 0 || FlushedAt[^1] != Length)
            {
                FlushedAt.Add((int)Length);
            }

            return Task.CompletedTask;
        }
    }
}
