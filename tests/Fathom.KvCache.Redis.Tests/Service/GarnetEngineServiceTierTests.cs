using Fathom.KvCache.Redis.Tests.Servers;

namespace Fathom.KvCache.Redis.Tests.Service;

public sealed class GarnetEngineServiceTierTests : EngineServiceTierTests
{
    protected override async Task<IKvTestServer> StartServerAsync() => await GarnetTestServer.StartAsync();
}
