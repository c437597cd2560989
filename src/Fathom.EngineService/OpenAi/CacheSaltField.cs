using System.Text.Json;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// vLLM's <c>cache_salt</c> request field (chat and text completions): an opaque string folded into the first
/// prompt block's cache key, so requests with different salts never share cached prefix blocks and cannot learn
/// from <c>cached_tokens</c> or timing whether another salt's caller sent the same prompt. The API gateway sets
/// it per API key; a direct caller may set its own.
/// </summary>
internal static class CacheSaltField
{
    /// <summary>The JSON field name.</summary>
    public const string Name = "cache_salt";

    /// <summary>Longest salt accepted (characters): a salt is an identifier, not a payload.</summary>
    public const int MaxLength = 1024;

    /// <summary>The salt, or null when absent; a present salt must be a non-empty string of at most <see cref="MaxLength"/> characters.</summary>
    /// <exception cref="OpenAiException">400 naming <c>cache_salt</c>.</exception>
    public static string? Read(JsonElement body)
    {
        string? salt = body.GetString(Name);
        if (salt is null)
        {
            return null;
        }

        if (salt.Length is 0 or > MaxLength)
        {
            throw OpenAiException.BadRequest($"'{Name}' must be a non-empty string of at most {MaxLength} characters.", Name);
        }

        return salt;
    }
}
