namespace Fathom.EngineService;

/// <summary>
/// Bounds on one request to the OpenAI endpoints, the <c>Fathom:RequestLimits</c> configuration section
/// (<c>Fathom__RequestLimits__X</c>). Each is checked on the parsed body before the request costs anything
/// (tokenizing, templating, a queue slot) and answered with a 400 naming the field, or 413 for the body's size.
/// The table with what each protects is in docs/serving.md.
/// </summary>
internal sealed class RequestLimits
{
    public const string Section = "Fathom:RequestLimits";

    /// <summary>Largest request body accepted; above it the answer is 413 <c>request_too_large</c>.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How much of an oversized body is read and thrown away so that a client still sending receives the 413
    /// instead of a reset connection; a body beyond this gets the 413 and the connection is closed.
    /// </summary>
    public long MaxDiscardedBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Deepest nesting of objects and arrays in the body (a parser's stack is the cost).</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Most entries in <c>messages</c>.</summary>
    public int MaxMessages { get; set; } = 2048;

    /// <summary>Most bytes in all the strings of <c>messages</c> together (content, names, tool-call arguments), as sent (UTF-8, escaped).</summary>
    public int MaxMessageBytes { get; set; } = 2_000_000;

    /// <summary>Most completions per request (<c>n</c>); the engine also caps it at the sequences it runs at once.</summary>
    public int MaxN { get; set; } = 64;

    /// <summary>Most <c>stop</c> strings (OpenAI allows 4).</summary>
    public int MaxStopSequences { get; set; } = 4;

    /// <summary>Longest <c>stop</c> string in UTF-8 bytes (every generated token is matched against each).</summary>
    public int MaxStopBytes { get; set; } = 256;

    /// <summary>Most <c>stop_token_ids</c>.</summary>
    public int MaxStopTokenIds { get; set; } = 64;

    /// <summary>Most <c>logit_bias</c> entries (each is applied at every sampling step).</summary>
    public int MaxLogitBiasEntries { get; set; } = 1024;

    /// <summary>Most <c>tools</c> (OpenAI allows 128).</summary>
    public int MaxTools { get; set; } = 128;

    /// <summary>Largest <c>tools</c> array in bytes of JSON (rendered into the prompt by the chat template).</summary>
    public int MaxToolsBytes { get; set; } = 256 * 1024;
}
