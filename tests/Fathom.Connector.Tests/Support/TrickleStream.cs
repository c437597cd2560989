namespace Fathom.Connector.Tests.Support;

/// <summary>
/// A read-only stream over fixed bytes that hands out 1–7 bytes per read, so SSE lines and multi-byte UTF-8
/// characters arrive split at every possible place.
/// </summary>
internal sealed class TrickleStream(byte[] data, int seed) : Stream
{
    private readonly Random _random = new(seed);
    private int _position;

    public int ReadCount { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => data.Length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, _random.Next(1, 8)), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        ReadCount++;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
