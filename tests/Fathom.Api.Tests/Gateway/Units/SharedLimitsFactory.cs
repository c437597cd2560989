using System.Diagnostics;
using Fathom.Api.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Tests.Gateway.Units;

/// <summary>Builds <see cref="SharedLimits"/> as the API's container does, from options and a <c>kvcache</c> connection string.</summary>
internal static class SharedLimitsFactory
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An instance on <paramref name="connectionString"/> (none: not shared), as it is right after start-up.</summary>
    public static SharedLimits Create(string? connectionString, Action<ApiOptions> configure, RecordingLogger<SharedLimits>? logger = null)
    {
        var options = new ApiOptions();
        configure(options);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:kvcache"] = connectionString })
            .Build();
        return new SharedLimits(Options.Create(options), configuration, logger ?? new RecordingLogger<SharedLimits>());
    }

    /// <summary>An instance once Redis answers it: it connects in the background, and a key no test uses tells when.</summary>
    public static async Task<SharedLimits> ConnectedAsync(string connectionString, Action<ApiOptions> configure, RecordingLogger<SharedLimits>? logger = null)
    {
        var limits = Create(connectionString, configure, logger);
        await UntilAsync(async () => await limits.TryAcquireAsync("warm-up", 0, false, Ct) is not null, TimeSpan.FromSeconds(10));
        return limits;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="within"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < within, $"not within {within}");
            await Task.Delay(50, Ct);
        }
    }
}
