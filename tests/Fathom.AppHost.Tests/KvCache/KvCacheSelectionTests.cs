using Fathom.AppHost;

namespace Fathom.AppHost.Tests.KvCache;

public sealed class KvCacheSelectionTests
{
    private const string RedisServer = "/usr/bin/redis-server";

    [Theory]
    // publish: always a real Redis container, whatever this machine has
    [InlineData(true, null, false, false, false, "Container")]
    [InlineData(true, "auto", true, true, true, "Container")]
    // run: an existing Redis first, then redis-server, then Garnet, else nothing (never a container)
    [InlineData(false, null, true, true, true, "ConnectionString")]
    [InlineData(false, null, false, true, true, "RedisServer")]
    [InlineData(false, "", false, false, true, "Garnet")]
    [InlineData(false, "AUTO", false, false, false, "None")]
    // forced choices win when they can work
    [InlineData(false, "container", false, true, true, "Container")]
    [InlineData(false, "garnet", true, true, true, "Garnet")]
    [InlineData(false, "redis-server", true, true, false, "RedisServer")]
    [InlineData(false, "connection-string", true, true, true, "ConnectionString")]
    [InlineData(false, "none", true, true, true, "None")]
    [InlineData(true, "connection-string", true, false, false, "ConnectionString")]
    [InlineData(true, "garnet", false, false, true, "Garnet")]
    public void Chooses_by_context_switch_and_what_exists(
        bool publish, string? mode, bool connectionString, bool redisServer, bool garnet, string expected)
    {
        var situation = new KvCacheSituation(publish, mode, connectionString, redisServer ? RedisServer : null, garnet);

        Assert.Equal(Enum.Parse<KvCacheMode>(expected), KvCacheSelection.Choose(situation));
    }

    [Theory]
    [InlineData(false, "connection-string", "ConnectionStrings:kvcache")]
    [InlineData(false, "redis-server", "not on PATH")]
    [InlineData(true, "redis-server", "cannot be deployed")]
    [InlineData(false, "garnet", "Fathom.KvCache.Garnet")]
    public void A_forced_choice_that_cannot_work_fails_with_the_reason(bool publish, string mode, string reason)
    {
        var situation = new KvCacheSituation(publish, mode, HasConnectionString: false, RedisServerPath: null, GarnetProjectExists: false);

        var ex = Assert.Throws<InvalidOperationException>(() => KvCacheSelection.Choose(situation));
        Assert.Contains(reason, ex.Message);
        Assert.Contains(KvCacheSelection.ConfigurationKey, ex.Message);
    }

    [Fact]
    public void An_unknown_mode_is_rejected_with_the_valid_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => KvCacheSelection.ParseMode("memcached"));
        Assert.Contains("memcached", ex.Message);
        Assert.Contains("redis-server", ex.Message);
    }

    [Theory]
    [InlineData("localhost:6380", "localhost", 6380)]
    [InlineData("10.0.0.5:7000,password=x,ssl=false", "10.0.0.5", 7000)]
    [InlineData("redis.internal", "redis.internal", 6379)]
    [InlineData("[::1]:6390", "::1", 6390)]
    [InlineData("[::1]", "::1", 6379)]
    public void The_ping_check_reads_the_first_endpoint_of_a_connection_string(string connectionString, string host, int port)
    {
        Assert.Equal((host, port), RespPingHealthCheck.ParseEndpoint(connectionString));
    }
}
