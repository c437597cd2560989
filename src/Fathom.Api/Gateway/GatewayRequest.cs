namespace Fathom.Api.Gateway;

/// <summary>What the gateway learned from a generation request's body (never its text): its prefix hash and size.</summary>
/// <param name="PrefixHash">Hash of the prompt's leading messages and cache salt (see <see cref="PromptPrefix"/>); null when there is none.</param>
/// <param name="Stream">True for <c>"stream": true</c>.</param>
/// <param name="EstimatedTokens">What the tokens-per-minute limit charges up front (<see cref="Security.TokenEstimate"/>).</param>
internal sealed record GatewayRequest(ulong? PrefixHash, bool Stream, int EstimatedTokens)
{
    /// <summary>The prompt's estimated tokens (characters / 4, or the count of a token-id prompt).</summary>
    public int PromptTokens { get; init; }

    /// <summary>
    /// True when the client streams without <c>stream_options.include_usage</c> and the gateway asked the engine for
    /// it (to settle the charge): the usage chunk and the chunks' <c>"usage":null</c> are taken out of the response.
    /// </summary>
    public bool UsageAddedByGateway { get; init; }
}
