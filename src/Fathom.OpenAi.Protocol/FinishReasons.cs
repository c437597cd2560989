namespace Fathom.OpenAi.Protocol;

/// <summary>The values of <c>finish_reason</c>; null (written as <c>null</c>) while a choice is still going.</summary>
public static class FinishReasons
{
    /// <summary>A stop string or the end-of-sequence token ended the choice.</summary>
    public const string Stop = "stop";

    /// <summary><c>max_tokens</c> or the context length ended the choice.</summary>
    public const string Length = "length";

    /// <summary>The engine aborted the choice (vLLM's extension).</summary>
    public const string Abort = "abort";

    /// <summary>A chat choice that ended by calling tools.</summary>
    public const string ToolCalls = "tool_calls";
}
