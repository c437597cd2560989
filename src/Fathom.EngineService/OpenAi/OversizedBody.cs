using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// Reads a request body under a limit. A body over it is read to its end and thrown away (up to a bound) before
/// the 413 is answered: a server that answers and closes while the client is still sending makes the client see
/// a reset connection, which the official OpenAI clients report as a connection error and retry.
/// </summary>
internal static class OversizedBody
{
    /// <summary>The body, or an <see cref="OpenAiException"/> with 413 once more than <paramref name="limit"/> bytes came.</summary>
    public static async Task<MemoryStream> ReadAsync(HttpRequest request, long limit, long discardBound, CancellationToken cancellationToken)
    {
        // Kestrel's own limit would fail the read (and the connection) at the first byte over; this takes its place.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = Math.Max(limit, discardBound);
        }

        if (request.ContentLength > limit)
        {
            await DiscardAsync(request, 0, discardBound, cancellationToken);
            throw TooLarge(limit);
        }

        var body = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (body.Length + n > limit)
                {
                    await DiscardAsync(request, body.Length + n, discardBound, cancellationToken);
                    throw TooLarge(limit);
                }

                body.Write(chunk, 0, n);
            }
        }
        catch
        {
            await body.DisposeAsync();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return body;
    }

    private static async Task DiscardAsync(HttpRequest request, long alreadyRead, long bound, CancellationToken cancellationToken)
    {
        if (request.ContentLength > bound)
        {
            request.HttpContext.Response.Headers.Connection = "close";
            return;
        }

        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = alreadyRead;
            int n;
            while ((n = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                total += n;
                if (total > bound)
                {
                    request.HttpContext.Response.Headers.Connection = "close";
                    return;
                }
            }
        }
        catch (BadHttpRequestException)
        {
            // Beyond Kestrel's bound or a broken upload: the 413 still goes out, and the connection closes.
            request.HttpContext.Response.Headers.Connection = "close";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static OpenAiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {limit} bytes.",
            Fathom.OpenAi.Protocol.ErrorTypes.InvalidRequest, null, "request_too_large");
}
