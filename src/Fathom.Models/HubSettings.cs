namespace Fathom.Models;

/// <summary>
/// The hub's address and the token to send, read the way Hugging Face's own client reads them: <c>HF_ENDPOINT</c>
/// (default <c>https://huggingface.co</c>, trailing slash dropped), <c>HF_TOKEN</c> (or the older
/// <c>HUGGING_FACE_HUB_TOKEN</c>), else the token file at
/// <c>HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c> (<c>HF_HOME</c> defaulting to <c>$XDG_CACHE_HOME/huggingface</c>,
/// i.e. <c>~/.cache/huggingface</c>) that <c>hf auth login</c> writes.
/// </summary>
public sealed record HubSettings
{
    /// <summary>The public hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub's base address (no trailing slash).</summary>
    public Uri Endpoint { get; init; } = new(DefaultEndpoint);

    /// <summary>The Bearer token for gated and private repositories, or null.</summary>
    public string? Token { get; init; }

    /// <summary>Reads <c>HF_ENDPOINT</c> and the token from this process's environment.</summary>
    public static HubSettings FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Reads the settings through <paramref name="variable"/> (tests pass their own environment).</summary>
    public static HubSettings FromEnvironment(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        string endpoint = variable("HF_ENDPOINT") is { Length: > 0 } e ? e.TrimEnd('/') : DefaultEndpoint;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"HF_ENDPOINT '{endpoint}' is not an http(s) address");
        }

        return new HubSettings { Endpoint = uri, Token = ReadToken(variable) };
    }

    private static string? ReadToken(Func<string, string?> variable)
    {
        // HUGGING_FACE_HUB_TOKEN is the older name the hub's client still honours after HF_TOKEN.
        foreach (string name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN" })
        {
            if (variable(name) is { } token && token.Trim().Length > 0)
            {
                return token.Trim();
            }
        }

        string? path = variable("HF_TOKEN_PATH");
        if (string.IsNullOrEmpty(path))
        {
            string? home = variable("HF_HOME");
            if (string.IsNullOrEmpty(home))
            {
                string cache = variable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
                home = Path.Combine(cache, "huggingface");
            }

            path = Path.Combine(home, "token");
        }

        try
        {
            return File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } stored ? stored : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
