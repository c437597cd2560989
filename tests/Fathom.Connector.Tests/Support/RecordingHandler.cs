using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Fathom.Connector.Tests.Support;

/// <summary>
/// An <see cref="HttpMessageHandler"/> that records each request (URI, headers, JSON body) and answers with the
/// next canned response; bodies are served through a <see cref="TrickleStream"/>.
/// </summary>
internal sealed class RecordingHandler : HttpMessageHandler
{
    private readonly Queue<CannedResponse> _responses = new();
    private int _seed = 1;

    public List<RecordedRequest> Requests { get; } = [];

    public RecordedRequest LastRequest => Requests[^1];

    public RecordingHandler Respond(HttpStatusCode status, string body, string contentType = "application/json", Action<HttpResponseMessage>? configure = null)
    {
        _responses.Enqueue(new CannedResponse(status, Encoding.UTF8.GetBytes(body), contentType, configure));
        return this;
    }

    public RecordingHandler RespondJson(string json) => Respond(HttpStatusCode.OK, json);

    public RecordingHandler RespondSse(string sse) => Respond(HttpStatusCode.OK, sse, "text/event-stream");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new RecordedRequest(
            request.Method,
            request.RequestUri!,
            request.Headers.Authorization?.ToString(),
            request.Headers.Accept.ToString(),
            request.Content?.Headers.ContentType?.ToString(),
            body is null ? null : JsonNode.Parse(body)!.AsObject(),
            body));

        if (!_responses.TryDequeue(out var canned))
        {
            throw new InvalidOperationException("RecordingHandler has no canned response left.");
        }

        var response = new HttpResponseMessage(canned.Status)
        {
            RequestMessage = request,
            Content = new StreamContent(new TrickleStream(canned.Body, _seed++)),
        };
        response.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(canned.ContentType);
        canned.Configure?.Invoke(response);
        return response;
    }

    private sealed record CannedResponse(HttpStatusCode Status, byte[] Body, string ContentType, Action<HttpResponseMessage>? Configure);
}

internal sealed record RecordedRequest(
    HttpMethod Method, Uri Uri, string? Authorization, string Accept, string? ContentType, JsonObject? Body, string? RawBody);
