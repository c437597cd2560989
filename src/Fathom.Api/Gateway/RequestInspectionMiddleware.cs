using System.Text.Json;
using Fathom.Api.OpenAi;
using Fathom.Api.Security;
using Fathom.OpenAi.Protocol.Requests;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Gateway;

/// <summary>
/// For POSTs to <c>/v1/*</c>: enforces the size limit (413, after reading the rest of the body up to a bound so
/// that the client receives it: <see cref="OversizedRequestBody"/>), buffers the body so a failed replica can be retried
/// with it, and reads the routing key and token charge (<see cref="GatewayRequest"/>) with the reader the engine
/// uses (a field it would refuse is refused here, 400 naming it). The body is parsed, never logged.
/// </summary>
internal sealed class RequestInspectionMiddleware(RequestDelegate next, IOptions<ApiOptions> options, CacheSalt cacheSalt, ModelContextLengths contexts)
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
        byte[]? forwarded = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                inspected = new GatewayRequest(null, false, 0);
            }
            else if (GenerationKind(request.Path) is { } chat)
            {
                (inspected, forwarded) = await InspectAsync(context, root, chat);
            }
            else
            {
                inspected = new GatewayRequest(PromptPrefix.Hash(root, options.Value.PrefixChars), root.GetBool("stream") ?? false, 0);
            }
        }
        catch (RequestFieldException e)
        {
            // The field the engine would refuse, refused here in the same words: the shared reader decided for both.
            await OpenAiError.WriteAsync(context, StatusCodes.Status400BadRequest, e.ToErrorResponse());
            return;
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

        if (forwarded is not null)
        {
            request.Body = new MemoryStream(forwarded, writable: false);
            request.ContentLength = forwarded.Length;
            request.Headers.TransferEncoding = default;
        }
        else
        {
            request.Body.Position = 0;
        }

        context.Features.Set(inspected);
        await next(context);
    }

    // True for chat completions, false for text completions, null for anything else under /v1.
    private static bool? GenerationKind(PathString path) =>
        path.Equals("/v1/chat/completions", StringComparison.OrdinalIgnoreCase) ? true
        : path.Equals("/v1/completions", StringComparison.OrdinalIgnoreCase) ? false
        : null;

    /// <summary>
    /// Reads a generation request with the engine's own reader (<see cref="SamplingFields"/>), so the charge counts
    /// what the engine will do: <c>4096.0</c> is 4096, <c>n</c> multiplies, no <c>max_tokens</c> is the rest of the
    /// context. Returns the body to forward instead of the client's when the salt or the usage option changes it.
    /// </summary>
    private async Task<(GatewayRequest Request, byte[]? Forwarded)> InspectAsync(HttpContext context, JsonElement root, bool chat)
    {
        var fields = SamplingFields.Parse(root, chat);
        string? clientSalt = root.GetString("cache_salt");
        string? salt = cacheSalt.For(context.Items[ApiKeyMiddleware.KeyIdItem] as string, clientSalt);
        int prompt = TokenEstimate.FromChars(PromptPrefix.PromptChars(root));
        int? contextLength = fields.MaxTokens is null ? await contexts.OfAsync(fields.Model, context.RequestAborted) : null;
        bool addUsage = fields.Stream && !fields.IncludeUsage;
        var inspected = new GatewayRequest(
            PromptPrefix.Hash(root, options.Value.PrefixChars, salt),
            fields.Stream,
            TokenEstimate.Charge(prompt, fields.MaxTokens, fields.N, contextLength))
        {
            PromptTokens = prompt,
            UsageAddedByGateway = addUsage,
        };
        bool saltChanged = !string.Equals(salt, clientSalt, StringComparison.Ordinal);
        return (inspected, saltChanged || addUsage ? ForwardedBody.Rewrite(root, saltChanged ? salt : null, addUsage) : null);
    }

    private static Task TooLargeAsync(HttpContext context, long limit) =>
        OpenAiError.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than the limit of {limit} bytes.", "invalid_request_error", "request_too_large");
}
