using Fathom.KvCache.Redis.Tests.Servers;

namespace Fathom.KvCache.Redis.Tests.Store;

public sealed class RedisServerStoreTests : KvBlockStoreTests
{
    protected override async Task<IKvTestServer> StartServerAsync() => await RedisServerProcess.StartAsync();
}
