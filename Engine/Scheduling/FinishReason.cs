namespace Fathom.Engine.Scheduling;

/// <summary>Why a sequence ended.</summary>
public enum FinishReason
{
    /// <summary>A stop token (end of generation or a requested stop id) or a stop string.</summary>
    Stop,

    /// <summary>max_tokens or the context length was reached.</summary>
    Length,

    /// <summary>The client went away or the request was cancelled.</summary>
    Abort,
}
