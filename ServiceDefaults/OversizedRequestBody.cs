using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The rest of a request body over a service's limit, read and thrown away before the 413 is answered: a server that
/// answers and closes while the client is still sending makes the client see a reset connection, which the official
/// OpenAI clients report as a connection error and retry. Past <c>bound</c> bytes the answer is still a 413, and the
/// connection closes after it. Shared by the API and the engine service.
/// </summary>
public static class OversizedRequestBody
{
    /// <summary>Reads <paramref name="body"/> to its end, <paramref name="alreadyRead"/> bytes having been read, or marks the connection to close.</summary>
    public static async Task DiscardAsync(HttpContext context, Stream body, long alreadyRead, long bound, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        if (context.Request.ContentLength > bound)
        {
            context.Response.Headers.Connection = "close";
            return;
        }

        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = alreadyRead;
            int n;
            while ((n = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
                if (total > bound)
                {
                    context.Response.Headers.Connection = "close";
                    return;
                }
            }
        }
        catch (BadHttpRequestException)
        {
            // Beyond Kestrel's bound or a broken upload: the 413 still goes out, and the connection closes.
            context.Response.Headers.Connection = "close";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
