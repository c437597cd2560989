using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Gateway;

/// <summary>
/// The <c>cache_salt</c> the API forwards (<see cref="ApiOptions.PrefixCacheSharing"/>): in <c>per-key</c> mode an
/// HMAC-SHA256 of the API key's id (never the key) and the client's own salt, so two keys never share a cached
/// prefix (vLLM's CVE-2025-46570: <c>cached_tokens</c> and timing would tell one tenant what another sent), while
/// one key still hits its own. The salt also goes into the routing key, so routing reveals nothing across keys either.
/// </summary>
internal sealed class CacheSalt
{
    /// <summary>One salt per API key (the default).</summary>
    public const string PerKey = "per-key";

    /// <summary>One cache for every key.</summary>
    public const string Global = "global";

    private readonly byte[]? _secret;

    public CacheSalt(IOptions<ApiOptions> options)
    {
        string mode = options.Value.PrefixCacheSharing;
        if (mode is not (PerKey or Global))
        {
            throw new InvalidOperationException($"Fathom:Api:PrefixCacheSharing must be '{PerKey}' or '{Global}' (is '{mode}')");
        }

        _secret = mode == PerKey
            ? Encoding.UTF8.GetBytes(string.IsNullOrEmpty(options.Value.CacheSaltSecret) ? "fathom/cache-salt/v1" : options.Value.CacheSaltSecret)
            : null;
    }

    /// <summary>True in <c>per-key</c> mode.</summary>
    public bool PerKeyMode => _secret is not null;

    /// <summary>
    /// The salt to forward for a request of key <paramref name="keyId"/> that sent <paramref name="clientSalt"/>:
    /// the client's salt as sent in <c>global</c> mode; else a salt no other key can produce.
    /// </summary>
    public string? For(string? keyId, string? clientSalt)
    {
        if (_secret is null || keyId is null)
        {
            return clientSalt;
        }

        // Length-prefixed parts: ("ab", "c") and ("a", "bc") must not meet.
        string material = $"{keyId.Length}:{keyId}|{clientSalt?.Length ?? -1}:{clientSalt}";
        return Convert.ToBase64String(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(material)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
