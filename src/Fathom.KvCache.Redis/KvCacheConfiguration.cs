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

    /// <summary>The connection string <c>ConnectionStrings:kvcache</c>, or null when the tier is not configured.</summary>
    /// <param name="configuration">The application's configuration.</param>
    public static string? ReadConnectionString(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? value = configuration.GetConnectionString(KvCacheOptions.ConnectionStringName);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
