namespace Fathom.OpenAi.Protocol.Tests;

/// <summary>Text completions, byte for byte as /v1/completions wrote them by hand (captured from stories260K, id and time fixed).</summary>
public sealed class CompletionShapeTests
{
    private static readonly CompletionLogprobs Logprobs = new()
    {
        Tokens = [","],
        TokenLogprobs = [-0.03170395f],
        TopLogprobs = [new Dictionary<string, float> { [","] = -0.03170395f, [" there"] = -3.5498438f }],
        TextOffset = [0],
    };

    [Fact]
    public void A_response_writes_null_logprobs_and_the_usage_with_cached_tokens()
    {
        var response = new CompletionResponse
        {
            Id = "ID",
            Created = 0,
            Model = "stories260K",
            Choices = [new CompletionChoice { Index = 0, Text = ", there was a little girl", FinishReason = FinishReasons.Length }],
            Usage = Usage.Of(5, 8, 0),
        };

        Assert.Equal(
            """{"id":"ID","object":"text_completion","created":0,"model":"stories260K","choices":[{"index":0,"text":", there was a little girl","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":8,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":0}}}""",
            Wire.Json(response, OpenAiJsonContext.Wire.CompletionResponse));
    }

    [Fact]
    public void A_chunk_with_usage_requested_writes_usage_null()
    {
        var chunk = CompletionChunk.ForChoice("ID", 0, "stories260K", new CompletionChoice { Index = 0, Text = ",", Logprobs = Logprobs }, includeUsage: true);

        Assert.Equal(
            """{"id":"ID","object":"text_completion","created":0,"model":"stories260K","choices":[{"index":0,"text":",","logprobs":{"tokens":[","],"token_logprobs":[-0.03170395],"top_logprobs":[{",":-0.03170395," there":-3.5498438}],"text_offset":[0]},"finish_reason":null}],"usage":null}""",
            Wire.Json(chunk, OpenAiJsonContext.Wire.CompletionChunk));
    }

    [Fact]
    public void A_chunk_without_usage_requested_leaves_usage_out()
    {
        var chunk = CompletionChunk.ForChoice("ID", 0, "m", new CompletionChoice { Index = 1, Text = " g", FinishReason = FinishReasons.Stop }, includeUsage: false);

        Assert.Equal(
            """{"id":"ID","object":"text_completion","created":0,"model":"m","choices":[{"index":1,"text":" g","logprobs":null,"finish_reason":"stop"}]}""",
            Wire.Json(chunk, OpenAiJsonContext.Wire.CompletionChunk));
    }

    [Fact]
    public void The_usage_chunk_has_no_choices()
    {
        Assert.Equal(
            """{"id":"ID","object":"text_completion","created":0,"model":"stories260K","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}}}""",
            Wire.Json(CompletionChunk.ForUsage("ID", 0, "stories260K", Usage.Of(5, 6, 0)), OpenAiJsonContext.Wire.CompletionChunk));
    }
}
