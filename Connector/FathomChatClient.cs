using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Fathom.Connector.Wire;
using Microsoft.Extensions.AI;

namespace Fathom.Connector;

/// <summary>
/// An <see cref="IChatClient"/> for Fathom's OpenAI-compatible API (the API service or an engine service; any
/// server speaking <c>POST /v1/chat/completions</c> with SSE streaming works).
/// </summary>
/// <remarks>
/// Give it an <see cref="HttpClient"/> from <c>IHttpClientFactory</c> so that service discovery
/// (<c>https+http://api</c>) and resilience handlers apply. DeepSeek-R1 reasoning (<c>reasoning_content</c>) comes back
/// as <see cref="TextReasoningContent"/>, separate from the answer's <see cref="TextContent"/>.
/// </remarks>
public sealed class FathomChatClient : IChatClient
{
    /// <summary>The provider name reported in <see cref="ChatClientMetadata"/>.</summary>
    public const string ProviderName = "fathom";

    /// <summary>
    /// Activity source and meter name of the OpenTelemetry layer the registration extensions add (GenAI semantic
    /// conventions: a <c>chat</c> span per request, <c>gen_ai.client.token.usage</c>, <c>gen_ai.client.operation.duration</c>).
    /// </summary>
    public const string TelemetrySourceName = "Fathom.Connector";

    /// <summary>Key of <c>usage.prompt_tokens_details.cached_tokens</c> (prefix-cache hits) in <see cref="UsageDetails.AdditionalCounts"/>.</summary>
    public const string CachedTokensCountKey = ChatResponseMapper.CachedTokensKey;

    /// <summary>Key of <c>usage.completion_tokens_details.reasoning_tokens</c> in <see cref="UsageDetails.AdditionalCounts"/>.</summary>
    public const string ReasoningTokensCountKey = ChatResponseMapper.ReasoningTokensKey;

    // Generations of a large model can run for minutes; callers bound them with cancellation tokens instead.
    private static readonly TimeSpan OwnedClientTimeout = TimeSpan.FromMinutes(10);

    private readonly HttpClient _httpClient;
    private readonly bool _ownsHttpClient;
    private readonly Uri _chatCompletionsUri;
    private readonly string _modelId;
    private readonly string? _apiKey;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Creates a client that sends requests through <paramref name="httpClient"/>.</summary>
    /// <param name="httpClient">The client to send with (not disposed by this instance).</param>
    /// <param name="modelId">The model name sent in each request unless <see cref="ChatOptions.ModelId"/> overrides it.</param>
    /// <param name="endpoint">The service's base address, with or without <c>/v1</c>; defaults to <see cref="HttpClient.BaseAddress"/>.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    /// <exception cref="ArgumentException">No endpoint was given and the client has no base address.</exception>
    public FathomChatClient(HttpClient httpClient, string modelId, Uri? endpoint = null, string? apiKey = null)
        : this(httpClient, ownsHttpClient: false, modelId, endpoint, apiKey)
    {
    }

    /// <summary>Creates a client with its own <see cref="HttpClient"/>, disposed with this instance.</summary>
    /// <param name="endpoint">The service's base address, with or without <c>/v1</c>.</param>
    /// <param name="modelId">The model name sent in each request unless <see cref="ChatOptions.ModelId"/> overrides it.</param>
    /// <param name="apiKey">Sent as <c>Authorization: Bearer</c> when given.</param>
    public FathomChatClient(Uri endpoint, string modelId, string? apiKey = null)
        : this(new HttpClient { Timeout = OwnedClientTimeout }, ownsHttpClient: true, modelId, endpoint, apiKey)
    {
    }

    private FathomChatClient(HttpClient httpClient, bool ownsHttpClient, string modelId, Uri? endpoint, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        var baseAddress = endpoint ?? httpClient.BaseAddress
            ?? throw new ArgumentException("Give an endpoint or an HttpClient whose BaseAddress is set.", nameof(endpoint));

        _httpClient = httpClient;
        _ownsHttpClient = ownsHttpClient;
        _modelId = modelId;
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _chatCompletionsUri = FathomEndpoint.ChatCompletions(baseAddress);
        _metadata = new ChatClientMetadata(ProviderName, FathomEndpoint.ApiRoot(baseAddress), modelId);
    }

    /// <summary>The model name sent when <see cref="ChatOptions.ModelId"/> does not override it.</summary>
    public string ModelId => _modelId;

    /// <summary>The absolute URI requests are posted to (<c>{endpoint}/v1/chat/completions</c>).</summary>
    public Uri ChatCompletionsUri => _chatCompletionsUri;

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var body = ChatRequestMapper.ToRequest(messages, options, _modelId, stream: false);
        using var request = CreateRequest(body, streaming: false);
        using var response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorMapper.FromResponseAsync(response, cancellationToken);
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        ChatCompletionResponse? completion;
        try
        {
            completion = JsonSerializer.Deserialize(bytes, FathomJsonContext.Default.ChatCompletionResponse);
        }
        catch (JsonException ex)
        {
            throw new FathomApiException($"The server sent a response that is not a chat completion: {ex.Message}", ex);
        }

        return ChatResponseMapper.ToChatResponse(completion
            ?? throw new FathomApiException("The server sent an empty chat completion."));
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var body = ChatRequestMapper.ToRequest(messages, options, _modelId, stream: true);
        using var request = CreateRequest(body, streaming: true);
        using var response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorMapper.FromResponseAsync(response, cancellationToken);
        }

        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var toolCalls = new StreamingToolCallAssembler();
        var events = SseParser.Create(stream, StreamEvent.Parse).EnumerateAsync(cancellationToken);
        await foreach (var item in events.WithCancellation(cancellationToken))
        {
            var streamEvent = item.Data;
            if (streamEvent.IsDone)
            {
                break;
            }

            if (streamEvent.Chunk is not { } chunk)
            {
                continue;
            }

            foreach (var update in StreamingUpdateMapper.ToUpdates(chunk, toolCalls))
            {
                yield return update;
            }
        }

        if (toolCalls.HasCalls)
        {
            // The stream ended without a finish_reason for the calls; hand over what arrived.
            yield return new ChatResponseUpdate(ChatRole.Assistant, toolCalls.Complete());
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    private HttpRequestMessage CreateRequest(ChatCompletionRequest body, bool streaming)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, FathomJsonContext.Default.ChatCompletionRequest));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var request = new HttpRequestMessage(HttpMethod.Post, _chatCompletionsUri) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(streaming ? "text/event-stream" : "application/json"));
        if (_apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        return request;
    }
}
