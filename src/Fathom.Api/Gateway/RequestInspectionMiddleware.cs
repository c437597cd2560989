using System.Text.Json;
using Fathom.Api.OpenAi;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Gateway;

/// <summary>
/// For POSTs to <c>/v1/*</c>: enforces the size limit (413, after reading the rest of the body up to a bound so
/// that the client receives it: <see cref="OversizedRequestBody"/>), buffers the body so a failed replica can be retried
/// with it, and reads the routing key (<see cref="GatewayRequest"/>). The body is parsed, never logged.
/// </summary>
internal sealed class RequestInspectionMiddleware(RequestDelegate next, IOptions<ApiOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || !request.Path.StartsWithSegments("/v1") || request.Path.StartsWithSegments("/v1/plan"))
        {
            await next(context);
            return;
        }

        long limit = options.Value.MaxRequestBytes;
        long discardBound = Math.Max(limit, options.Value.MaxDiscardedBodyBytes);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            // Kestrel's limit would fail the connection at the first byte over; the buffer's limit below takes its place.
            size.MaxRequestBodySize = discardBound;
        }

        var original = request.Body;
        if (request.ContentLength > limit)
        {
            await OversizedRequestBody.DiscardAsync(context, original, 0, discardBound, context.RequestAborted);
            await TooLargeAsync(context, limit);
            return;
        }

        request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: limit);
        GatewayRequest inspected;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement;
            inspected = root.ValueKind != JsonValueKind.Object
                ? new GatewayRequest(null, false, 0)
                : new GatewayRequest(
                    PromptPrefix.Hash(root, options.Value.PrefixChars),
                    root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True,
                    PromptPrefix.PromptChars(root) / 4 + MaxTokens(root));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not ours to judge (malformed JSON, invalid UTF-8 or a lone surrogate in a string, a message that is no
            // object): the engine answers it in its own words, with a 400 naming the field.
            inspected = new GatewayRequest(null, false, 0);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            context.Response.Headers.Connection = "close";
            await TooLargeAsync(context, limit);
            return;
        }
        catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The buffer's limit (a body without Content-Length): what it read counts toward the bound.
            await OversizedRequestBody.DiscardAsync(context, original, limit, discardBound, context.RequestAborted);
            await TooLargeAsync(context, limit);
            return;
        }
        catch (IOException)
        {
            // The client went away mid-upload: there is no one to answer.
            return;
        }

        request.Body.Position = 0;
        context.Features.Set(inspected);
        await next(context);
    }

    private static int MaxTokens(JsonElement root)
    {
        foreach (string name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            // The engine reads 4096.0 as 4096: so must the token charge, or a float would slip past the per-key budget.
            if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double n))
            {
                return (int)Math.Clamp(n, 0, int.MaxValue);
            }
        }

        return 16;
    }

    private static Task TooLargeAsync(HttpContext context, long limit) =>
        OpenAiError.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the limit of {limit} bytes.", "invalid_request_error", "request_too_large");
}
