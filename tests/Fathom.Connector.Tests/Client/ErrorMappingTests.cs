using System.Net;
using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Tests.Client;

public sealed class ErrorMappingTests
{
    private static FathomChatClient Client(RecordingHandler handler) =>
        new(new HttpClient(handler), "m", new Uri("http://fathom.test/"));

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "This model's maximum context length is 2048 tokens.", "invalid_request_error", "max_tokens", false)]
    [InlineData(HttpStatusCode.TooManyRequests, "The request queue is full.", "rate_limit_exceeded", null, false)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "The engine is not ready.", "server_error", null, false)]
    [InlineData(HttpStatusCode.BadRequest, "temperature must be >= 0", "invalid_request_error", "temperature", true)]
    [InlineData(HttpStatusCode.TooManyRequests, "The request queue is full.", "rate_limit_exceeded", null, true)]
    public async Task Openai_error_bodies_become_exceptions_with_the_servers_message(
        HttpStatusCode status, string message, string type, string? param, bool streaming)
    {
        var paramJson = param is null ? "null" : $"\"{param}\"";
        var body = $$$"""{"error":{"message":"{{{message}}}","type":"{{{type}}}","param":{{{paramJson}}},"code":"{{{type}}}_code"}}""";
        var handler = new RecordingHandler().Respond(status, body, configure: r =>
        {
            if (status == HttpStatusCode.TooManyRequests)
            {
                r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
            }
        });
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<FathomApiException>(async () =>
        {
            if (streaming)
            {
                await foreach (var _ in client.GetStreamingResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken))
                {
                }
            }
            else
            {
                await client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken);
            }
        });

        Assert.Equal(message, ex.Message);
        Assert.Equal(status, ex.StatusCode);
        Assert.Equal(type, ex.ErrorType);
        Assert.Equal($"{type}_code", ex.ErrorCode);
        Assert.Equal(param, ex.Param);
        Assert.Equal(status == HttpStatusCode.TooManyRequests ? TimeSpan.FromSeconds(7) : (TimeSpan?)null, ex.RetryAfter);
        Assert.IsAssignableFrom<HttpRequestException>(ex);
    }

    [Fact]
    public async Task A_non_json_error_body_still_names_the_status()
    {
        var handler = new RecordingHandler().Respond(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "text/html");
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<FathomApiException>(() => client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Contains("502", ex.Message);
        Assert.Contains("bad gateway", ex.Message);
    }

    [Fact]
    public async Task A_numeric_vllm_error_code_is_kept_as_text()
    {
        var handler = new RecordingHandler().Respond(HttpStatusCode.NotFound, """{"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}}""");
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<FathomApiException>(() => client.GetResponseAsync("q", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("The model `x` does not exist.", ex.Message);
        Assert.Equal("404", ex.ErrorCode);
    }
}
