using Microsoft.Extensions.Configuration;

namespace Fathom.KvCache.Redis;

/// <summary>Reads the KV tier's settings from configuration (Aspire conventions).</summary>
public static class KvCacheConfiguration
{
    /// <summary>The options bound from <see cref="KvCacheOptions.SectionName"/> and validated.</summary>
    /// <param name="configuration">The application's configuration.</param>
    public static KvCacheOptions ReadOptions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new KvCacheOptions();
        configuration.GetSection(KvCacheOptions.SectionName).Bind(options);
        options.Validate();
        return options;
    }

    /// <summary>
    /// Why <paramref name="options"/> cannot run the tier in a shared deployment (no HMAC key, or one shorter than
    /// <see cref="KvCacheOptions.MinimumHmacKeyBytes"/>), or null when its key is fit. Development may run unsigned.
    /// </summary>
    /// <param name="options">The tier's settings.</param>
    public static string? HmacKeyProblem(KvCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int bytes = options.HmacKeyBytes?.Length ?? 0;
        if (bytes == 0)
        {
            return $"ConnectionStrings:{KvCacheOptions.ConnectionStringName} is set but {KvCacheOptions.SectionName}:HmacKey is not; "
                + "outside Development the engines must sign and verify KV blocks (set Fathom__KvCache__HmacKey to the engines' shared "
                + $"secret, at least {KvCacheOptions.MinimumHmacKeyBytes} bytes), or remove the connection string.";
        }

        return bytes < KvCacheOptions.MinimumHmacKeyBytes
            ? $"{KvCacheOptions.SectionName}:HmacKey is {bytes} bytes; at least {KvCacheOptions.MinimumHmacKeyBytes} are required outside Development."
            : null;
    }

    /// <summary>The connection string <c>ConnectionStrings:kvcache</c>, or null when the tier is not configured.</summary>
    /// <param name="configuration">The application's configuration.</param>
    public static string? ReadConnectionString(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? value = configuration.GetConnectionString(KvCacheOptions.ConnectionStringName);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
