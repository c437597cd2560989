namespace Fathom.Api.Gateway;

/// <summary>What the gateway learned from a generation request's body (never its text): its prefix hash and size.</summary>
/// <param name="PrefixHash">Hash of the prompt's leading messages (see <see cref="PromptPrefix"/>); null when there is none.</param>
/// <param name="Stream">True for <c>"stream": true</c>.</param>
/// <param name="EstimatedTokens">Prompt characters / 4 plus <c>max_tokens</c>: what the tokens-per-minute limit charges.</param>
internal sealed record GatewayRequest(ulong? PrefixHash, bool Stream, int EstimatedTokens);
