using System.Threading.Channels;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// The outputs of one request as the engine produces them. The reader completes when every completion has
/// finished (then <see cref="Usage"/> is set) or when the request was cancelled.
/// </summary>
public sealed class GenerationOutputs
{
    internal GenerationOutputs(string requestId, int promptTokens, ChannelReader<GenerationOutput> outputs)
    {
        RequestId = requestId;
        PromptTokens = promptTokens;
        Outputs = outputs;
    }

    /// <summary>The engine's id of the request.</summary>
    public string RequestId { get; }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <summary>Tokens in order, per completion; completions interleave.</summary>
    public ChannelReader<GenerationOutput> Outputs { get; }

    /// <summary>Token counts, once the reader has completed normally.</summary>
    public GenerationUsage? Usage { get; internal set; }
}
