using System.Buffers;

namespace Fathom.Api.Gateway;

/// <summary>
/// The rest of a body over the limit, read and thrown away before the 413 is answered: a server that answers and
/// closes while the client is still sending makes the client see a reset connection, which the official OpenAI
/// clients report as a connection error and retry. Beyond <see cref="ApiOptions.MaxDiscardedBodyBytes"/> the
/// answer is still a 413, and the connection closes after it.
/// </summary>
internal static class OversizedBody
{
    public static async Task DiscardAsync(HttpContext context, Stream body, long alreadyRead, long bound)
    {
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
            while ((n = await body.ReadAsync(chunk, context.RequestAborted)) > 0)
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
            context.Response.Headers.Connection = "close";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
