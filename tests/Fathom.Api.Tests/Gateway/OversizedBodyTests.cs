using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// A body over <c>Fathom:Api:MaxRequestBytes</c> (4 MiB by default) is read to its end and answered 413 by the
/// API, so the official client receives the answer instead of a reset connection, and does not retry it.
/// </summary>
[Collection(nameof(EngineReplicas))]
public sealed class OversizedBodyTests(EngineReplicas replicas)
{
    [Fact]
    public async Task The_official_client_receives_a_413_for_a_6_MB_prompt_once_and_the_api_answers_normally_afterwards()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var replica = new FakeReplica(200, "{}");
        await using var api = await EngineReplicas.StartApiAsync([replica.Address]);
        using var counting = new CountingHandler();
        using var http = new HttpClient(counting) { Timeout = TimeSpan.FromMinutes(2) };
        var client = new ChatClient(SharedFixtures.Stories260KName, new ApiKeyCredential(EngineReplicas.Key), new OpenAIClientOptions
        {
            Endpoint = new Uri(api.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
        });

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            client.CompleteChatAsync([new UserChatMessage(new string('x', 6_000_000))], new ChatCompletionOptions { MaxOutputTokenCount = 1 }, ct));

        Assert.Equal(413, e.Status);
        Assert.Contains("request_too_large", e.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, counting.Sent);
        Assert.Equal(0, replica.Requests);

        // The connection it came on may be gone; the API is not.
        using var models = await EngineReplicas.Http(api).GetAsync("/health", ct);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
    }

    [Fact]
    public async Task A_body_without_content_length_over_the_limit_gets_the_413_too()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        await using var replica = new FakeReplica(200, "{}");
        await using var api = await EngineReplicas.StartApiAsync([replica.Address], ("MaxRequestBytes", "100000"));

        // Chunked upload of 1 MB: the limit is found while buffering, and the rest is still read before the answer.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(api.BaseAddress.Host, api.BaseAddress.Port, ct);
        await using var stream = tcp.GetStream();
        string head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: {api.BaseAddress.Authority}\r\nAuthorization: Bearer {EngineReplicas.Key}\r\n"
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        byte[] chunk = Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));
        byte[] chunkHead = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        for (int i = 0; i < 16; i++)
        {
            await stream.WriteAsync(chunkHead, ct);
            await stream.WriteAsync(chunk, ct);
            await stream.WriteAsync("\r\n"u8.ToArray(), ct);
        }

        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), ct);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string? status = await reader.ReadLineAsync(ct);
        Assert.Equal("HTTP/1.1 413 Payload Too Large", status);
        Assert.Equal(0, replica.Requests);
    }
}
