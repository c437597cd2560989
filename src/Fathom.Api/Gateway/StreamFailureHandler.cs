using System.Text;
using Fathom.OpenAi.Protocol;

namespace Fathom.Api.Gateway;

/// <summary>
/// Sits in the forwarder's HTTP pipeline. A server-sent-event response whose replica dies mid-stream does not
/// just stop (a client could mistake that for a short answer): the upstream read error becomes a final
/// OpenAI-style error event, <c>data: {"error":{...}}</c>, and the stream then ends cleanly. A replica that
/// answers 503 did not accept the request (loading or draining): its response is dropped and surfaces as a
/// <see cref="ReplicaNotReadyException"/>, so <see cref="FailoverMiddleware"/> sends the request to another
/// replica. Every other status, 500 included, means the replica may have started the work and passes through:
/// replaying a request that crashed one replica would crash the next.
/// </summary>
internal sealed class StreamFailureHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
        {
            response.Dispose();
            throw new ReplicaNotReadyException("The engine replica answered 503 (not ready or draining) before the first byte.");
        }

        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return response;
        }

        var original = response.Content;
        var wrapped = new StreamContent(new ErrorEventOnFailureStream(await original.ReadAsStreamAsync(cancellationToken)));
        foreach (var header in original.Headers)
        {
            if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                wrapped.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        response.Content = wrapped;
        return response;
    }

    private sealed class ErrorEventOnFailureStream(Stream upstream) : Stream
    {
        private static readonly byte[] ErrorEvent = Encoding.UTF8.GetBytes(
            "data: " + Encoding.UTF8.GetString(ErrorResponse.Create("The engine replica failed while streaming; the response is incomplete.",
                ErrorTypes.Server, param: null, "replica_failed").ToUtf8Json()) + "\n\n");

        private int _errorOffset = -1;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_errorOffset < 0)
            {
                try
                {
                    return await upstream.ReadAsync(buffer, cancellationToken);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                {
                    _errorOffset = 0;
                }
            }

            int n = Math.Min(buffer.Length, ErrorEvent.Length - _errorOffset);
            ErrorEvent.AsMemory(_errorOffset, n).CopyTo(buffer);
            _errorOffset += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                upstream.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
