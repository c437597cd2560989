using System.Globalization;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// SentencePiece-style byte tokens <c>&lt;0xNN&gt;</c>: the tokens that spell a character's UTF-8 bytes when the
/// character itself is not a token (llama.cpp's <c>llama</c> vocabularies and Hugging Face's <c>byte_fallback</c>).
/// </summary>
internal static class ByteTokens
{
    /// <summary>Whether <paramref name="text"/> is a byte token's text, and which byte.</summary>
    public static bool TryParse(string text, out byte value)
    {
        value = 0;
        return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// The id of each byte's token, or -1 where the vocabulary has none. With <paramref name="literalAscii"/> an ASCII
    /// byte without a <c>&lt;0xNN&gt;</c> token falls back to the token whose text is that character, as llama.cpp does.
    /// </summary>
    public static int[] Find(Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> ids, bool literalAscii)
    {
        var result = new int[256];
        Span<char> hex = ['<', '0', 'x', '0', '0', '>'];
        for (var b = 0; b < 256; b++)
        {
            hex[3] = HexDigit(b >> 4);
            hex[4] = HexDigit(b & 15);
            if (ids.TryGetValue(hex, out var id))
            {
                result[b] = id;
            }
            else
            {
                result[b] = literalAscii && b < 0x80 && ids.TryGetValue([(char)b], out id) ? id : -1;
            }
        }
        return result;
    }

    private static char HexDigit(int v) => (char)(v < 10 ? '0' + v : 'A' + v - 10);
}
