namespace Fathom.Testing;

/// <summary>
/// An HTTP handler that counts the requests a client actually sends, retries included: hand it to a client (the
/// official OpenAI client through <c>HttpClientPipelineTransport</c>) to see whether it retried.
/// </summary>
public sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    private int _sent;

    /// <summary>Requests sent so far.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <inheritdoc/>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        return base.SendAsync(request, cancellationToken);
    }
}
