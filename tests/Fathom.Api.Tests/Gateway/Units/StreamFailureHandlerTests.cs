using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Fathom.Api.Gateway;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class StreamFailureHandlerTests
{
    private const string FirstEvent = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Once\"}}]}\n\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Sends one request through the handler to an upstream that answers <paramref name="response"/>.</summary>
    private static Task<HttpResponseMessage> SendAsync(HttpResponseMessage response, CancellationToken? ct = null)
    {
        var invoker = new HttpMessageInvoker(new StreamFailureHandler(new Upstream(response)));
        return invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "http://replica/v1/chat/completions"), ct ?? Ct);
    }

    private static HttpResponseMessage EventStream(Stream body)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        content.Headers.ContentLength = 1234;
        content.Headers.TryAddWithoutValidation("x-fathom-test", "kept");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    [Fact]
    public async Task A_503_before_the_first_byte_becomes_a_not_ready_failure_to_retry_elsewhere()
    {
        var upstream = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new TrackedContent() };

        var e = await Assert.ThrowsAsync<ReplicaNotReadyException>(() => SendAsync(upstream));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.True(((TrackedContent)upstream.Content).Disposed, "the failed response was not dropped");
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.NotImplemented)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task Other_answers_may_have_started_the_work_and_pass_through_unchanged(HttpStatusCode status)
    {
        var content = new StringContent("""{"error":{}}""", Encoding.UTF8, "application/json");

        using var response = await SendAsync(new HttpResponseMessage(status) { Content = content });

        Assert.Equal(status, response.StatusCode);
        Assert.Same(content, response.Content);
    }

    [Fact]
    public async Task A_replica_that_dies_mid_stream_ends_the_stream_with_an_openai_error_event()
    {
        using var response = await SendAsync(EventStream(new FailingStream(Encoding.UTF8.GetBytes(FirstEvent))));
        string sse = await response.Content.ReadAsStringAsync(Ct);

        Assert.StartsWith(FirstEvent, sse, StringComparison.Ordinal);
        string[] events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.StartsWith("data: ", events[1], StringComparison.Ordinal);
        var error = JsonDocument.Parse(events[1]["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal("replica_failed", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_error_event_survives_small_reads()
    {
        using var response = await SendAsync(EventStream(new FailingStream(Encoding.UTF8.GetBytes(FirstEvent))));
        await using var body = await response.Content.ReadAsStreamAsync(Ct);
        var read = new MemoryStream();
        var buffer = new byte[7];
        for (int n; (n = await body.ReadAsync(buffer, Ct)) > 0;)
        {
            read.Write(buffer, 0, n);
        }

        string sse = Encoding.UTF8.GetString(read.ToArray());
        Assert.EndsWith("\n\n", sse, StringComparison.Ordinal);
        Assert.Contains("\"replica_failed\"", sse, StringComparison.Ordinal);
        Assert.Single(sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries), e => e.Contains("replica_failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stream_that_ends_normally_is_passed_on_byte_for_byte_with_its_headers_but_no_length()
    {
        const string sse = FirstEvent + "data: [DONE]\n\n";

        using var response = await SendAsync(EventStream(new MemoryStream(Encoding.UTF8.GetBytes(sse))));

        // The error event would make a declared length a lie. (Read before the body: buffering it sets a length.)
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("kept", response.Content.Headers.GetValues("x-fathom-test").Single());
        Assert.Equal(sse, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_stream_the_client_cancels_is_not_reported_as_a_replica_failure()
    {
        using var cancelled = new CancellationTokenSource();
        using var response = await SendAsync(EventStream(new FailingStream([], onFail: cancelled.Cancel)), cancelled.Token);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);

        await Assert.ThrowsAsync<IOException>(async () => await body.ReadAtLeastAsync(new byte[64], 1, throwOnEndOfStream: false, cancelled.Token));
    }

    /// <summary>The replica's side of the connection: answers every request with one prepared response.</summary>
    private sealed class Upstream(HttpResponseMessage response) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(response);
    }

    /// <summary>Content that remembers being disposed.</summary>
    private sealed class TrackedContent : ByteArrayContent
    {
        public TrackedContent()
            : base([])
        {
        }

        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    /// <summary>A response body that yields <paramref name="before"/> and then fails as a reset connection does.</summary>
    private sealed class FailingStream(byte[] before, Action? onFail = null) : MemoryStream(before)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await base.ReadAsync(buffer, cancellationToken);
            if (n > 0)
            {
                return n;
            }

            onFail?.Invoke();
            throw new IOException("The response ended prematurely.");
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
