using Fathom.KvCache.Redis.Tests.Servers;
using Fathom.Testing;

namespace Fathom.KvCache.Redis.Tests.Service;

/// <summary>Outside Development an engine with the Redis tier configured refuses to start without a fit HMAC key.</summary>
public sealed class HmacKeyRequiredTests : IAsyncLifetime
{
    private IKvTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await RedisServerProcess.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private Dictionary<string, string?> Production(string? hmacKey) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__kvcache"] = _server.ConnectionString,
        ["Fathom__KvCache__HmacKey"] = hmacKey,
    };

    [Theory]
    [InlineData(null, "Fathom:KvCache:HmacKey is not")]
    [InlineData("too short", "HmacKey is 9 bytes; at least 32")]
    public async Task Production_without_a_fit_key_exits_with_one_line_saying_why(string? key, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => EngineServiceProcess.StartAsync(environment: Production(key)));

        Assert.Contains("exited with code 2", error.Message, StringComparison.Ordinal);
        var lines = error.Message.Split('\n').Where(l => l.Contains("refusing to start", StringComparison.Ordinal)).ToList();
        Assert.Contains(expected, Assert.Single(lines), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.Message, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task Production_with_a_key_starts_and_development_may_run_unsigned()
    {
        await using var signed = await EngineServiceProcess.StartAsync(environment: Production("an engines' secret of 32 bytes or more"));
        Assert.True(signed.IsRunning);

        await using var development = await EngineServiceProcess.StartAsync(environment: new Dictionary<string, string?>
        {
            ["ConnectionStrings__kvcache"] = _server.ConnectionString,
        });
        Assert.True(development.IsRunning);
    }
}
