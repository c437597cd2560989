using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Security;

/// <summary>
/// The accepted API keys, held only as SHA-256 hashes. A presented key is hashed and compared to each hash in
/// constant time, so neither the key nor the position of a mismatch leaks through timing.
/// </summary>
internal sealed class ApiKeys
{
    private readonly byte[][] _hashes;

    public ApiKeys(IOptions<ApiOptions> options)
    {
        _hashes = [.. options.Value.KeyHashes.Where(h => !string.IsNullOrWhiteSpace(h)).Select(Parse)];
    }

    /// <summary>False: no keys configured, every request is let in (local development).</summary>
    public bool Required => _hashes.Length > 0;

    /// <summary>A short, stable name for the key (the first hex digits of its hash) for limits and logs; null when not accepted.</summary>
    public string? Identify(string presentedKey)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        int match = -1;
        for (int i = 0; i < _hashes.Length; i++)
        {
            // Every hash is compared, found or not, to keep the time independent of which key matched.
            if (CryptographicOperations.FixedTimeEquals(hash, _hashes[i]))
            {
                match = i;
            }
        }

        return match < 0 ? null : Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }

    /// <summary>The hex SHA-256 of a key, the form that goes into <c>Fathom__Api__KeyHashes__N</c>.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Why an entry of <c>Fathom:Api:KeyHashes</c> is not a SHA-256 hash, or null when all are.</summary>
    public static string? FindInvalid(IEnumerable<string> hashes)
    {
        int index = 0;
        foreach (string entry in hashes)
        {
            if (!string.IsNullOrWhiteSpace(entry) && TryParse(entry) is null)
            {
                return $"Fathom:Api:KeyHashes:{index} is not a SHA-256 hash (64 hex digits, optionally prefixed 'sha256:')";
            }

            index++;
        }

        return null;
    }

    private static byte[] Parse(string entry) =>
        TryParse(entry) ?? throw new InvalidOperationException(FindInvalid([entry]));

    private static byte[]? TryParse(string entry)
    {
        const string Prefix = "sha256:";
        string hex = entry.Trim();
        if (hex.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[Prefix.Length..];
        }

        try
        {
            byte[] bytes = Convert.FromHexString(hex);
            return bytes.Length == 32 ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
