namespace Fathom.Api.Security;

/// <summary>
/// What a generation request is charged against its key's tokens-per-minute budget before it runs: the prompt
/// estimate plus <c>max_tokens × n</c>. A chat request without <c>max_tokens</c> may generate to the end of the
/// model's context, so it is charged the rest of the context per completion; when the context length is not known
/// either, as much as the budget holds. The charge is settled to the actual usage when the response ends.
/// </summary>
internal static class TokenEstimate
{
    /// <summary>The up-front charge, saturating at <see cref="int.MaxValue"/>.</summary>
    public static int Charge(int promptTokens, int? maxTokens, int n, int? contextLength)
    {
        long perCompletion = maxTokens ?? (contextLength is { } context ? Math.Max(0, context - promptTokens) : int.MaxValue);
        long total = Math.Max(0, promptTokens) + Math.Max(0, perCompletion) * Math.Max(1, n);
        return (int)Math.Min(total, int.MaxValue);
    }

    /// <summary>The prompt's tokens estimated from its characters (about four per token in English text).</summary>
    public static int FromChars(int chars) => chars / 4;
}
