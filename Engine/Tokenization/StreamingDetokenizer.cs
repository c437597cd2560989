using System.Text;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Turns generated tokens into text as they arrive without ever emitting half a character: bytes of a UTF-8
/// sequence split across tokens (or spelled by byte-fallback tokens) are held back until the character is whole.
/// Not thread-safe; use one per stream.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _renderSpecial;
    private readonly List<byte> _pending = new(8);

    internal StreamingDetokenizer(Tokenizer tokenizer, bool renderSpecial)
    {
        _tokenizer = tokenizer;
        _renderSpecial = renderSpecial;
    }

    /// <summary>Number of bytes received that do not yet form a whole character.</summary>
    public int PendingByteCount => _pending.Count;

    /// <summary>Adds a token and returns the text it completes (possibly empty).</summary>
    public string Append(int token)
    {
        _pending.AddRange(_tokenizer.GetPiece(token, _renderSpecial));
        var complete = CompleteLength(_pending);
        if (complete == 0)
        {
            return string.Empty;
        }
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..complete]);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Ends the stream: returns what is still held back (an incomplete sequence becomes U+FFFD).</summary>
    public string Flush()
    {
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>The length of the longest prefix that does not end inside a still-incomplete UTF-8 sequence.</summary>
    internal static int CompleteLength(List<byte> bytes)
    {
        var n = bytes.Count;
        for (var k = n - 1; k >= 0 && k >= n - 4; k--)
        {
            var b = bytes[k];
            if (b < 0x80)
            {
                return n;
            }
            if (b >= 0xC0)
            {
                var need = b >= 0xF8 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return n - k < need ? k : n;
            }
            // A continuation byte: keep looking for its lead byte.
        }
        return n;
    }
}
