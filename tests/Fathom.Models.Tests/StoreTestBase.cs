using Fathom.Testing;

namespace Fathom.Models.Tests;

/// <summary>A fresh fake hub and an empty store folder per test.</summary>
public abstract class StoreTestBase : IAsyncLifetime
{
    protected FakeHub Hub { get; private set; } = null!;

    protected string Root { get; } = Directory.CreateTempSubdirectory("fathom-store-").FullName;

    public async ValueTask InitializeAsync() => Hub = await FakeHub.StartAsync();

    public virtual async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    protected ModelStore Store(string? token = null, string? root = null, Func<ModelStoreOptions, ModelStoreOptions>? configure = null)
    {
        var options = new ModelStoreOptions
        {
            Root = root ?? Root,
            Hub = new HubSettings { Endpoint = Hub.Endpoint, Token = token },
            RetryDelay = TimeSpan.FromMilliseconds(10),
        };
        return new ModelStore(configure?.Invoke(options) ?? options);
    }

    protected static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Collects every progress report synchronously (Progress&lt;T&gt; would post them later).</summary>
    protected sealed class Recorder : IProgress<PullProgress>
    {
        public List<PullProgress> Reports { get; } = [];

        public void Report(PullProgress value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }
}
