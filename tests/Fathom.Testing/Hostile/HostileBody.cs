namespace Fathom.Testing.Hostile;

/// <summary>What a server must answer to a <see cref="HostileBody"/>.</summary>
public enum HostileExpectation
{
    /// <summary>A 4xx with OpenAI's error JSON (<c>{"error":{...}}</c>); when <see cref="HostileBody.Param"/> is set, its <c>param</c> names that field.</summary>
    Rejected,

    /// <summary>A 200: the body is valid, however extreme.</summary>
    Accepted,

    /// <summary>A 200 or a 4xx with OpenAI's error JSON: the contract leaves the choice to the server (limits it picks).</summary>
    Either,
}

/// <summary>One request body of the hostile-traffic suite, and what the server must answer to it.</summary>
/// <param name="Name">What the body attacks, unique within a generated set (failure messages quote it).</param>
/// <param name="Path">The endpoint: <c>/v1/chat/completions</c> or <c>/v1/completions</c>.</param>
/// <param name="Content">The raw bytes sent as <c>application/json</c> (not necessarily JSON, nor UTF-8).</param>
/// <param name="Expect">The answer the contract requires.</param>
/// <param name="Param">For <see cref="HostileExpectation.Rejected"/>: the field the error's <c>param</c> must name, or null when any (or none) will do.</param>
public sealed record HostileBody(string Name, string Path, byte[] Content, HostileExpectation Expect, string? Param = null)
{
    /// <summary>The chat endpoint.</summary>
    public const string ChatPath = "/v1/chat/completions";

    /// <summary>The text completions endpoint.</summary>
    public const string CompletionsPath = "/v1/completions";

    /// <inheritdoc/>
    public override string ToString() => $"{Path} {Name} ({Content.Length:N0} bytes, expect {Expect}{(Param is null ? "" : " param=" + Param)})";
}
