namespace Fathom.Api.Security;

/// <summary>The secret the API shares with its engines (<c>Fathom:GatewayToken</c>, <c>Fathom__GatewayToken</c>); null when not set.</summary>
internal sealed class GatewayToken(IConfiguration configuration)
{
    /// <summary>The configuration key, the same on the API and the engine service.</summary>
    public const string Key = "Fathom:GatewayToken";

    public string? Value { get; } = configuration[Key] is { Length: > 0 } value ? value : null;
}
