using System.Text;
using Fathom.Api.Gateway;
using Microsoft.AspNetCore.Http;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class UsageMeterTests
{
    private const string Opening = """data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}""";
    private const string Token = """data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi \"usage\":null"},"logprobs":null,"finish_reason":null}],"usage":null}""";
    private const string Usage = """data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}""";

    private static async Task<(UsageMeter Meter, string Client)> PassAsync(string contentType, bool strip, params string[] writes)
    {
        var context = new DefaultHttpContext();
        context.Response.ContentType = contentType;
        using var client = new MemoryStream();
        var meter = new UsageMeter(client, context.Response, strip);
        foreach (string write in writes)
        {
            await meter.WriteAsync(Encoding.UTF8.GetBytes(write), TestContext.Current.CancellationToken);
        }

        meter.Complete();
        return (meter, Encoding.UTF8.GetString(client.ToArray()));
    }

    [Fact]
    public async Task A_stream_the_gateway_asked_usage_for_reaches_the_client_without_it()
    {
        string stream = $"{Opening}\n\n{Token}\n\n{Usage}\n\ndata: [DONE]\n\n";
        // Split mid-line, as TCP may.
        var (meter, client) = await PassAsync("text/event-stream", strip: true, stream[..50], stream[50..300], stream[300..]);

        Assert.Equal(12, meter.PromptTokens);
        Assert.Equal(2, meter.CompletionTokens);
        Assert.Equal(
            $"{Opening.Replace(",\"usage\":null", "", StringComparison.Ordinal)}\n\n{Token[..^",\"usage\":null}".Length]}}}\n\ndata: [DONE]\n\n",
            client);
        Assert.Contains("Hi \\\"usage\\\":null", client, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_that_asked_for_usage_passes_unchanged()
    {
        string stream = $"{Opening}\n\n{Token}\n\n{Usage}\n\ndata: [DONE]\n\n";

        var (meter, client) = await PassAsync("text/event-stream", strip: false, stream);

        Assert.Equal(stream, client);
        Assert.Equal(14, meter.PromptTokens + meter.CompletionTokens);
    }

    [Fact]
    public async Task A_stream_cut_short_counts_its_data_events()
    {
        var (meter, _) = await PassAsync("text/event-stream", strip: true, $"{Opening}\n\n{Token}\n\n{Token}\n\n");

        Assert.Null(meter.PromptTokens);
        Assert.True(meter.EventStream);
        Assert.Equal(3, meter.DataEvents);
    }

    [Fact]
    public async Task A_json_response_is_read_from_its_tail()
    {
        string body = """{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"""
            + "\"" + new string('a', 20_000) + "\"" + """},"finish_reason":"length"}],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0}}}""";

        var (meter, client) = await PassAsync("application/json", strip: false, body[..9000], body[9000..]);

        Assert.Equal(body, client);
        Assert.Equal(7, meter.PromptTokens);
        Assert.Equal(5, meter.CompletionTokens);
    }
}
