using Fathom.KvCache.Redis.Tests.Servers;

namespace Fathom.KvCache.Redis.Tests.Tier;

public sealed class RedisServerTierEngineTests : TierEngineTests
{
    protected override async Task<IKvTestServer> StartServerAsync() => await RedisServerProcess.StartAsync();
}
