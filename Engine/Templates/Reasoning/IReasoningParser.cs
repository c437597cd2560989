namespace Fathom.Engine.Templates.Reasoning;

/// <summary>Splits a reasoning model's output into its reasoning and its answer.</summary>
public interface IReasoningParser
{
    /// <summary>Splits a whole generated text.</summary>
    /// <param name="text">The generated text (after the prompt).</param>
    ReasoningResult Parse(string text);

    /// <summary>Starts splitting a text that arrives in pieces (one stream per sequence).</summary>
    IStreamingReasoningParser CreateStreamingParser();
}

/// <summary>Splits a streamed text piece by piece; tags cut across pieces are recognised.</summary>
public interface IStreamingReasoningParser
{
    /// <summary>Takes the next piece of text; returns what can be emitted now (text that might start a tag is held back).</summary>
    /// <param name="delta">The newly generated text.</param>
    ReasoningResult Push(string delta);

    /// <summary>Ends the stream: returns any held-back text.</summary>
    ReasoningResult Finish();
}

/// <summary>Reasoning and answer text; either is null when there is none (OpenAI's <c>reasoning_content</c> and <c>content</c>).</summary>
/// <param name="ReasoningContent">The reasoning.</param>
/// <param name="Content">The answer.</param>
public readonly record struct ReasoningResult(string? ReasoningContent, string? Content)
{
    /// <summary>True when there is nothing to emit.</summary>
    public bool IsEmpty => string.IsNullOrEmpty(ReasoningContent) && string.IsNullOrEmpty(Content);
}
