using Microsoft.Extensions.Configuration;

namespace Fathom.KvCache.Redis.Tests.Configuration;

public class KvCacheConfigurationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Options_bind_from_the_fathom_kvcache_section()
    {
        var options = KvCacheConfiguration.ReadOptions(Config(
            ("Fathom:KvCache:Ttl", "02:00:00"),
            ("Fathom:KvCache:FetchTimeout", "00:00:00.075"),
            ("Fathom:KvCache:WriteQueueCapacity", "32"),
            ("Fathom:KvCache:HmacKey", "shared"),
            ("Fathom:KvCache:ChunkBytes", "1048576")));

        Assert.Equal(TimeSpan.FromHours(2), options.Ttl);
        Assert.Equal(TimeSpan.FromMilliseconds(75), options.FetchTimeout);
        Assert.Equal(32, options.WriteQueueCapacity);
        Assert.Equal("shared", options.HmacKey);
        Assert.Equal(1 << 20, options.ChunkBytes);
    }

    [Fact]
    public void Out_of_range_values_are_refused_by_name()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            KvCacheConfiguration.ReadOptions(Config(("Fathom:KvCache:WriteQueueCapacity", "0"))));
        Assert.Equal("WriteQueueCapacity", ex.ParamName);
    }

    [Fact]
    public void The_connection_string_is_aspires_kvcache_with_tls_and_password_passed_through()
    {
        Assert.Null(KvCacheConfiguration.ReadConnectionString(Config()));
        string? cs = KvCacheConfiguration.ReadConnectionString(Config(("ConnectionStrings:kvcache", "cache.example:6380,ssl=true,password=p4ss")));
        var parsed = RedisKvBlockStore.CreateConfiguration(cs!, new KvCacheOptions());

        Assert.True(parsed.Ssl);
        Assert.Equal("p4ss", parsed.Password);
        Assert.False(parsed.AbortOnConnectFail);
    }
}
