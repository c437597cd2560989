using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Fathom.Testing.Hostile;

/// <summary>
/// Sends one raw body and classifies the answer the way the issue #18 contract reads it: status class, whether an
/// error was OpenAI's JSON, whether a 200 stream ended in an error event, connection failures and timeouts kept
/// apart. Never throws for what the server does; only <paramref name="cancellationToken"/> of the caller stops it.
/// </summary>
public static class HostileClient
{
    /// <summary>
    /// POSTs <paramref name="content"/> as <c>application/json</c> to <paramref name="path"/> and reads the whole
    /// answer within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<HostileOutcome> SendAsync(HttpClient http, string path, byte[] content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var body = new ByteArrayContent(content);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            string text = await response.Content.ReadAsStringAsync(deadline.Token);
            int status = (int)response.StatusCode;
            string detail = text.Length <= 300 ? text : text[..300];
            if (status is >= 200 and < 300)
            {
                bool sse = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
                bool sseError = sse && (HasErrorEvent(text) || !text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal));
                return new(OutcomeKind.Success, status, false, null, sseError, sseError ? Tail(text) : detail, clock.Elapsed);
            }

            var (shaped, param) = ReadError(text);
            return new(status < 500 ? OutcomeKind.ClientError : OutcomeKind.ServerError, status, shaped, param, false, detail, clock.Elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(OutcomeKind.Timeout, 0, false, null, false, $"no complete answer within {timeout.TotalSeconds:F0} s", clock.Elapsed);
        }
        catch (HttpRequestException e)
        {
            return new(OutcomeKind.Connection, 0, false, null, false, Describe(e), clock.Elapsed);
        }
        catch (IOException e)
        {
            // A body cut short while reading it: the connection broke after the headers.
            return new(OutcomeKind.Connection, 0, false, null, false, Describe(e), clock.Elapsed);
        }
    }

    /// <summary>Whether <paramref name="text"/> is <c>{"error":{"message":"…",…}}</c>, and the error's <c>param</c>.</summary>
    public static (bool Shaped, string? Param) ReadError(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String)
            {
                string? param = error.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                return (true, param);
            }
        }
        catch (JsonException)
        {
        }

        return (false, null);
    }

    /// <summary>Whether an SSE body carries a <c>data: {"error":…}</c> event.</summary>
    public static bool HasErrorEvent(string sse) =>
        sse.Split('\n').Any(line => line.StartsWith("data: {", StringComparison.Ordinal) && ReadError(line["data: ".Length..]).Shaped);

    private static string Tail(string text) => text.Length <= 300 ? text : "…" + text[^300..];

    private static string Describe(Exception e)
    {
        var text = new StringBuilder();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            text.Append(text.Length > 0 ? " <- " : "").Append(x.GetType().Name).Append(": ").Append(x.Message);
        }

        return text.ToString();
    }
}
