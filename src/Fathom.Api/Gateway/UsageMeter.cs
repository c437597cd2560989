using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fathom.Api.Gateway;

/// <summary>
/// Wraps a generation response's body on its way to the client and reads the usage it reports, so the token
/// charge can be settled: a JSON response's <c>usage</c> object (found in its tail, without buffering the body), a
/// stream's usage chunk. A stream that ends early reports no usage; its data events are counted instead (about one
/// per generated token). When the gateway added <c>include_usage</c> for itself (<see cref="GatewayRequest.UsageAddedByGateway"/>),
/// the usage chunk and every chunk's <c>"usage":null</c> are taken out, so the client gets what it asked for.
/// </summary>
internal sealed class UsageMeter(Stream inner, HttpResponse response, bool stripUsage) : Stream
{
    private const int TailBytes = 8 * 1024;
    private static readonly byte[] UsageKey = "\"usage\":"u8.ToArray();
    private static readonly byte[] UsageNullAfter = ",\"usage\":null"u8.ToArray();
    private static readonly byte[] UsageNullBefore = "\"usage\":null,"u8.ToArray();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();

    private readonly ArrayBufferWriter<byte> _pending = new();
    private readonly byte[] _tail = new byte[TailBytes];
    private int _tailLength;
    private bool? _eventStream;
    private bool _dropBlankLine;

    /// <summary>Prompt tokens the response reported; null when it reported no usage.</summary>
    public int? PromptTokens { get; private set; }

    /// <summary>Completion tokens (all choices) the response reported; null when it reported no usage.</summary>
    public int? CompletionTokens { get; private set; }

    /// <summary>Data events of a stream, the usage chunk and <c>[DONE]</c> aside: about one per generated token.</summary>
    public int DataEvents { get; private set; }

    /// <summary>True once the response turned out to be a server-sent-event stream.</summary>
    public bool EventStream => _eventStream == true;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _eventStream ??= response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        if (!EventStream)
        {
            KeepTail(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
            return;
        }

        _pending.Write(buffer.Span);
        var output = new ArrayBufferWriter<byte>(buffer.Length + 16);
        var pending = _pending.WrittenSpan;
        int consumed = 0;
        while (pending[consumed..].IndexOf((byte)'\n') is int newline and >= 0)
        {
            Line(pending.Slice(consumed, newline + 1), output);
            consumed += newline + 1;
        }

        byte[] rest = pending[consumed..].ToArray();
        _pending.Clear();
        _pending.Write(rest);
        if (output.WrittenCount > 0)
        {
            await inner.WriteAsync(output.WrittenMemory, cancellationToken);
        }
    }

    /// <summary>Reads the usage of a JSON response from its tail; call once the body is complete.</summary>
    public void Complete()
    {
        if (EventStream || _tailLength == 0)
        {
            return;
        }

        var tail = _tail.AsSpan(0, _tailLength);
        int at = tail.LastIndexOf(UsageKey);
        if (at < 0)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(tail[(at + UsageKey.Length)..], new JsonReaderOptions { AllowTrailingCommas = false });
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                using var usage = JsonDocument.ParseValue(ref reader);
                Read(usage.RootElement);
            }
        }
        catch (JsonException)
        {
            // Not OpenAI's usage object: the charge stays as taken.
        }
    }

    private void KeepTail(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= TailBytes)
        {
            bytes[^TailBytes..].CopyTo(_tail);
            _tailLength = TailBytes;
            return;
        }

        int keep = Math.Min(_tailLength, TailBytes - bytes.Length);
        if (keep < _tailLength)
        {
            _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
        }

        bytes.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + bytes.Length;
    }

    private void Line(ReadOnlySpan<byte> line, ArrayBufferWriter<byte> output)
    {
        var content = line.TrimEnd("\r\n"u8);
        if (content.IsEmpty && _dropBlankLine)
        {
            _dropBlankLine = false;
            return;
        }

        _dropBlankLine = false;
        if (!content.StartsWith(DataPrefix) || content.Length <= DataPrefix.Length || content[DataPrefix.Length] != (byte)'{')
        {
            output.Write(line);
            return;
        }

        var payload = content[DataPrefix.Length..];
        if (payload.IndexOf(UsageKey) < 0)
        {
            DataEvents++;
            output.Write(line);
            return;
        }

        if (!stripUsage && payload.IndexOf(",\"usage\":{"u8) < 0 && payload.IndexOf("{\"usage\":{"u8) < 0)
        {
            // "usage":null on a chunk the client asked for: nothing to read.
            DataEvents++;
            output.Write(line);
            return;
        }

        if (stripUsage && (payload.IndexOf(UsageNullAfter) is int after and >= 0))
        {
            DataEvents++;
            output.Write(line[..(DataPrefix.Length + after)]);
            output.Write(line[(DataPrefix.Length + after + UsageNullAfter.Length)..]);
            return;
        }

        if (stripUsage && (payload.IndexOf(UsageNullBefore) is int before and >= 0))
        {
            DataEvents++;
            output.Write(line[..(DataPrefix.Length + before)]);
            output.Write(line[(DataPrefix.Length + before + UsageNullBefore.Length)..]);
            return;
        }

        UsageChunk(payload, line, output);
    }

    private void UsageChunk(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> line, ArrayBufferWriter<byte> output)
    {
        JsonObject? chunk;
        try
        {
            chunk = JsonNode.Parse(payload) as JsonObject;
        }
        catch (JsonException)
        {
            chunk = null;
        }

        if (chunk is null || chunk["usage"] is not JsonObject usage)
        {
            DataEvents++;
            output.Write(line);
            return;
        }

        using (var document = JsonDocument.Parse(usage.ToJsonString()))
        {
            Read(document.RootElement);
        }

        bool hasChoices = chunk["choices"] is JsonArray { Count: > 0 };
        if (hasChoices)
        {
            DataEvents++;
        }

        if (!stripUsage)
        {
            output.Write(line);
            return;
        }

        if (!hasChoices)
        {
            // The usage chunk the client did not ask for, and the blank line that ends its event.
            _dropBlankLine = true;
            return;
        }

        chunk.Remove("usage");
        output.Write(DataPrefix);
        output.Write(Encoding.UTF8.GetBytes(chunk.ToJsonString()));
        output.Write(line[line.TrimEnd("\r\n"u8).Length..]);
    }

    private void Read(JsonElement usage)
    {
        if (usage.ValueKind == JsonValueKind.Object
            && usage.TryGetProperty("prompt_tokens", out var prompt) && prompt.TryGetInt32(out int promptTokens)
            && usage.TryGetProperty("completion_tokens", out var completion) && completion.TryGetInt32(out int completionTokens))
        {
            PromptTokens = promptTokens;
            CompletionTokens = completionTokens;
        }
    }
}
