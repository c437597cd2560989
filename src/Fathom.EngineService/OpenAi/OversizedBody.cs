using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// Reads a request body under a limit. A body over it is read to its end and thrown away (up to a bound, by
/// <see cref="Microsoft.Extensions.Hosting.OversizedRequestBody"/>, as the API does) before the 413 is answered.
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
            await OversizedRequestBody.DiscardAsync(request.HttpContext, request.Body, 0, discardBound, cancellationToken);
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
                    await OversizedRequestBody.DiscardAsync(request.HttpContext, request.Body, body.Length + n, discardBound, cancellationToken);
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

    private static OpenAiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {limit} bytes.",
            Fathom.OpenAi.Protocol.ErrorTypes.InvalidRequest, null, "request_too_large");
}
