using System.Text;

namespace Fathom.Testing.Hostile;

/// <summary>
/// A request body as an ordered list of top-level fields, each a raw JSON fragment. Raw text (not a serializer) so
/// that the suite can send what serializers never write: <c>4096.0</c>, <c>1e999</c>, duplicate-free overrides of
/// any field with any bytes.
/// </summary>
internal sealed class HostileJson
{
    private readonly List<KeyValuePair<string, string>> _fields = [];

    /// <summary>A chat body: <paramref name="model"/>, one user message, <c>max_tokens</c> 4 (short: the suite sends hundreds).</summary>
    public static HostileJson Chat(string model) => new HostileJson()
        .Set("model", Quote(model))
        .Set("messages", """[{"role":"user","content":"Once upon a time"}]""")
        .Set("max_tokens", "4");

    /// <summary>A text completion body: <paramref name="model"/>, a short prompt, <c>max_tokens</c> 4.</summary>
    public static HostileJson Completion(string model) => new HostileJson()
        .Set("model", Quote(model))
        .Set("prompt", Quote("Once upon a time"))
        .Set("max_tokens", "4");

    /// <summary>Sets (or replaces, keeping its position) <paramref name="name"/> to the raw JSON <paramref name="raw"/>.</summary>
    public HostileJson Set(string name, string raw)
    {
        int i = _fields.FindIndex(f => f.Key == name);
        if (i >= 0)
        {
            _fields[i] = new(name, raw);
        }
        else
        {
            _fields.Add(new(name, raw));
        }

        return this;
    }

    /// <summary>Removes <paramref name="name"/> when present.</summary>
    public HostileJson Remove(string name)
    {
        _fields.RemoveAll(f => f.Key == name);
        return this;
    }

    /// <summary>The body as UTF-8 bytes.</summary>
    public byte[] ToBytes() => Encoding.UTF8.GetBytes(ToString());

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder("{");
        foreach (var (name, raw) in _fields)
        {
            text.Append(text.Length > 1 ? "," : "").Append(Quote(name)).Append(':').Append(raw);
        }

        return text.Append('}').ToString();
    }

    /// <summary>A JSON string literal; the inputs here are ASCII without quotes or backslashes except where escaped on purpose.</summary>
    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>A JSON array of <paramref name="count"/> copies of <paramref name="item"/>.</summary>
    public static string Array(string item, int count)
    {
        var text = new StringBuilder(count * (item.Length + 1) + 2).Append('[');
        for (int i = 0; i < count; i++)
        {
            text.Append(i > 0 ? "," : "").Append(item);
        }

        return text.Append(']').ToString();
    }

    /// <summary><paramref name="depth"/> nested arrays around <c>1</c>: <c>[[[…1…]]]</c>.</summary>
    public static string NestedArrays(int depth) => new string('[', depth) + "1" + new string(']', depth);

    /// <summary><paramref name="depth"/> nested objects: <c>{"a":{"a":…1…}}</c>.</summary>
    public static string NestedObjects(int depth)
    {
        var text = new StringBuilder(depth * 6 + 1);
        for (int i = 0; i < depth; i++)
        {
            text.Append("{\"a\":");
        }

        return text.Append('1').Append('}', depth).ToString();
    }

    /// <summary>A string literal of about <paramref name="bytes"/> bytes of words (so a tokenizer sees ordinary text).</summary>
    public static string HugeString(int bytes)
    {
        const string Words = "the cat sat on a mat and ";
        var text = new StringBuilder(bytes + Words.Length + 2).Append('"');
        while (text.Length < bytes)
        {
            text.Append(Words);
        }

        return text.Append('"').ToString();
    }

    /// <summary>The bytes of <paramref name="before"/>, then <paramref name="raw"/> verbatim, then <paramref name="after"/>.</summary>
    public static byte[] Splice(string before, ReadOnlySpan<byte> raw, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];
}
