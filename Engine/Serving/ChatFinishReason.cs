namespace Fathom.Engine.Serving;

/// <summary>Why a chat choice ended, as OpenAI's <c>finish_reason</c> names it.</summary>
public enum ChatFinishReason
{
    /// <summary>A stop token or stop string (<c>stop</c>).</summary>
    Stop,

    /// <summary>max_tokens or the context length (<c>length</c>).</summary>
    Length,

    /// <summary>The request was cancelled (<c>abort</c>, as vLLM).</summary>
    Abort,

    /// <summary>The answer held tool calls (<c>tool_calls</c>).</summary>
    ToolCalls,
}
