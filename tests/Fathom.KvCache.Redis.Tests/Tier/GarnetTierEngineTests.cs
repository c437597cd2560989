using Fathom.KvCache.Redis.Tests.Servers;

namespace Fathom.KvCache.Redis.Tests.Tier;

public sealed class GarnetTierEngineTests : TierEngineTests
{
    protected override async Task<IKvTestServer> StartServerAsync() => await GarnetTestServer.StartAsync();
}
