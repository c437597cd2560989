using System.ClientModel;
using System.ClientModel.Primitives;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>
/// A body over <c>Fathom:RequestLimits:MaxRequestBodyBytes</c> (4 MiB by default) is read to its end and answered
/// 413, so the official client receives the answer instead of a reset connection, and does not retry it.
/// </summary>
public sealed class OversizedBodyTests(EngineServiceFixture fixture)
{
    [Fact]
    public async Task The_official_client_receives_a_413_for_a_6_MB_prompt_once_and_the_engine_answers_normally_afterwards()
    {
        var ct = TestContext.Current.CancellationToken;
        fixture.Require();
        using var counting = new CountingHandler();
        using var http = new HttpClient(counting) { Timeout = TimeSpan.FromMinutes(2) };
        var client = new ChatClient(SharedFixtures.Stories260KName, new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
        });

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            client.CompleteChatAsync([new UserChatMessage(new string('x', 6_000_000))], new ChatCompletionOptions { MaxOutputTokenCount = 1 }, ct));

        Assert.Equal(413, e.Status);
        Assert.Contains("request_too_large", e.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, counting.Sent);

        ChatCompletion after = await client.CompleteChatAsync([new UserChatMessage("Once upon a time")], new ChatCompletionOptions { MaxOutputTokenCount = 2 }, ct);
        Assert.Equal(2, after.Usage.OutputTokenCount);
        Assert.Equal(2, counting.Sent);
    }
}
