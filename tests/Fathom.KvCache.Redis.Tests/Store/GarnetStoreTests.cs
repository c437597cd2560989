using Fathom.KvCache.Redis.Tests.Servers;

namespace Fathom.KvCache.Redis.Tests.Store;

public sealed class GarnetStoreTests : KvBlockStoreTests
{
    protected override async Task<IKvTestServer> StartServerAsync() => await GarnetTestServer.StartAsync();
}
