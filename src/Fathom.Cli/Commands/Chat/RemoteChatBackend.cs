using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fathom.OpenAi.Protocol;

namespace Fathom.Cli.Commands.Chat;

/// <summary>
/// A running Fathom API or engine service (or any OpenAI-compatible server): <c>POST /v1/chat/completions</c> with
/// <c>stream: true</c>, read as server-sent events of <see cref="ChatCompletionChunk"/>s; <c>reasoning_content</c> deltas
/// are the reasoning. Errors in OpenAI's shape become one-line <see cref="ChatBackendException"/>s.
/// </summary>
internal sealed class RemoteChatBackend : IChatBackend
{
    private readonly HttpClient _http;

    private RemoteChatBackend(HttpClient http, string model)
    {
        _http = http;
        ModelName = model;
    }

    public string ModelName { get; }

    /// <summary>
    /// Connects to <paramref name="url"/> (with or without its <c>/v1</c>) and checks it by listing its models; the model
    /// is <paramref name="model"/> when given, else the first the server lists.
    /// </summary>
    public static async Task<RemoteChatBackend> ConnectAsync(string url, string? apiKey, string? model, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ChatBackendException($"'{url}' is not an http:// or https:// URL");
        }

        var root = uri.AbsoluteUri.TrimEnd('/');
        if (root.EndsWith("/v1", StringComparison.Ordinal))
        {
            root = root[..^3];
        }

        // No overall timeout: an answer streams for as long as it takes; a dead server is noticed by the connection.
        var http = new HttpClient { BaseAddress = new Uri(root + "/"), Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(apiKey))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        try
        {
            var list = await ListModelsAsync(http, cancellationToken).ConfigureAwait(false);
            if (model is null)
            {
                model = list.Data.Count > 0 ? list.Data[0].Id : throw new ChatBackendException($"{root} serves no model");
            }
            else if (!list.Data.Any(m => m.Id == model))
            {
                throw new ChatBackendException($"{root} does not serve '{model}' (it serves: {string.Join(", ", list.Data.Select(m => m.Id))})");
            }

            return new RemoteChatBackend(http, model);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public async IAsyncEnumerable<ChatPiece> StreamAsync(IReadOnlyList<ChatLine> messages, ChatSettings settings,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(RequestBody(ModelName, messages, settings), Encoding.UTF8, "application/json"),
        };
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (item.Data == OpenAiServerSentEvents.Done)
            {
                yield break;
            }

            var chunk = ParseChunk(item.Data);
            foreach (var choice in chunk.Choices)
            {
                if (choice.Index == 0 && (!string.IsNullOrEmpty(choice.Delta.ReasoningContent) || !string.IsNullOrEmpty(choice.Delta.Content)))
                {
                    yield return new ChatPiece(NullIfEmpty(choice.Delta.ReasoningContent), NullIfEmpty(choice.Delta.Content));
                }
            }

            if (chunk.Usage.Value is { } usage)
            {
                yield return new ChatPiece(null, null,
                    new ChatTokenCounts(usage.PromptTokens, usage.CompletionTokens, usage.PromptTokensDetails?.CachedTokens ?? 0));
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task<ModelList> ListModelsAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        using var response = await SendAsync(http, request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(text, OpenAiJsonContext.Wire.ModelList)
                ?? throw new ChatBackendException($"{http.BaseAddress}v1/models answered null");
        }
        catch (JsonException e)
        {
            throw new ChatBackendException($"{http.BaseAddress}v1/models did not answer a model list (is this an OpenAI-compatible server?)", e);
        }
    }

    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(_http, request, cancellationToken);

    // Sends and checks the status: a refusal becomes the server's own message (OpenAI's error shape) in one line.
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ChatBackendException($"cannot reach {http.BaseAddress}: {e.Message}", e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var message = ErrorMessage(text) ?? (text.Length > 0 && text.Length < 200 ? text : response.ReasonPhrase);
            var hint = response.StatusCode == HttpStatusCode.Unauthorized ? " (give the key with --api-key or FATHOM_API_KEY)" : "";
            throw new ChatBackendException($"{(int)response.StatusCode} from {request.RequestUri}: {message}{hint}");
        }
    }

    private static ChatCompletionChunk ParseChunk(string data)
    {
        if (ErrorMessage(data) is { } error)
        {
            throw new ChatBackendException($"the server stopped the answer: {error}");
        }

        try
        {
            return JsonSerializer.Deserialize(data, OpenAiJsonContext.Wire.ChatCompletionChunk)
                ?? throw new ChatBackendException("the server sent a null chunk");
        }
        catch (JsonException e)
        {
            throw new ChatBackendException($"the server sent a chunk that is not a chat.completion.chunk: {e.Message}", e);
        }
    }

    // OpenAI's {"error":{"message":...}}, or null when the text is not that.
    private static string? ErrorMessage(string text)
    {
        try
        {
            return JsonNode.Parse(text) is JsonObject root && root["error"] is JsonObject error
                ? error["message"]?.ToString() ?? error.ToJsonString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string RequestBody(string model, IReadOnlyList<ChatLine> messages, ChatSettings settings)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        if (settings.Temperature is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (settings.MaxTokens is { } maxTokens)
        {
            body["max_tokens"] = maxTokens;
        }

        return body.ToJsonString();
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
