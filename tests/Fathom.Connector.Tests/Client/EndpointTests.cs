using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Tests.Client;

public sealed class EndpointTests
{
    [Theory]
    [InlineData("http://fathom.test:5080", "http://fathom.test:5080/v1/chat/completions")]
    [InlineData("http://fathom.test:5080/", "http://fathom.test:5080/v1/chat/completions")]
    [InlineData("http://fathom.test:5080/v1", "http://fathom.test:5080/v1/chat/completions")]
    [InlineData("http://fathom.test:5080/v1/", "http://fathom.test:5080/v1/chat/completions")]
    [InlineData("https://gateway.test/llm", "https://gateway.test/llm/v1/chat/completions")]
    [InlineData("https://gateway.test/llm/v1/", "https://gateway.test/llm/v1/chat/completions")]
    [InlineData("https+http://api", "https+http://api/v1/chat/completions")]
    public async Task Endpoint_with_or_without_v1_posts_to_chat_completions(string endpoint, string expected)
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("ok"));
        using var client = new FathomChatClient(new HttpClient(handler), "m", new Uri(endpoint));

        await client.GetResponseAsync("hi", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(expected, handler.LastRequest.Uri.ToString());
    }

    [Fact]
    public async Task HttpClient_base_address_is_the_endpoint_when_none_is_given()
    {
        var handler = new RecordingHandler().RespondJson(OpenAiJson.Completion("ok"));
        using var client = new FathomChatClient(new HttpClient(handler) { BaseAddress = new Uri("http://from-factory:8000/v1/") }, "m");

        await client.GetResponseAsync("hi", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("http://from-factory:8000/v1/chat/completions", handler.LastRequest.Uri.ToString());
    }

    [Fact]
    public void No_endpoint_and_no_base_address_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new FathomChatClient(new HttpClient(), "m"));
        Assert.Contains("BaseAddress", ex.Message);
    }

    [Fact]
    public void Metadata_names_provider_api_root_and_model()
    {
        using var client = new FathomChatClient(new HttpClient(), "llama", new Uri("http://h:1/"));

        var metadata = client.GetService<ChatClientMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("fathom", metadata.ProviderName);
        Assert.Equal("http://h:1/v1/", metadata.ProviderUri!.ToString());
        Assert.Equal("llama", metadata.DefaultModelId);
        Assert.Same(client, client.GetService<FathomChatClient>());
        Assert.Null(client.GetService<ChatClientMetadata>("some-key"));
    }
}
