using Fathom.Models;
using Fathom.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Fathom.Connector.Embedded.Tests;

/// <summary>Embedded mode given a model reference: pulled from the hub into the store on first use, then served in-process.</summary>
public sealed class EmbeddedModelReferenceTests
{
    [Fact]
    public async Task A_reference_is_pulled_on_first_use_and_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var hub = await FakeHub.StartAsync();
        hub.AddFile("acme/Stories-GGUF", "stories260K-Q4_K_M.gguf",
            await File.ReadAllBytesAsync(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), ct));
        string store = Directory.CreateTempSubdirectory("fathom-embedded-store-").FullName;
        var reports = new List<PullProgress>();
        var services = new ServiceCollection();
        services.AddFathomEmbeddedChatCompletion("hf.co/acme/Stories-GGUF", options: new EmbeddedEngineOptions
        {
            Threads = 1,
            ModelStore = new ModelStoreOptions { Root = store, Hub = new HubSettings { Endpoint = hub.Endpoint } },
            PullProgress = new SyncProgress(reports),
        });
        using var provider = services.BuildServiceProvider();
        try
        {
            var client = provider.GetRequiredService<IChatClient>();
            var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 8 }, ct);

            Assert.Equal(8, response.Usage?.OutputTokenCount);
            Assert.False(string.IsNullOrWhiteSpace(response.Text));
            Assert.Equal(PullStage.Complete, reports[^1].Stage);
            Assert.Equal("stories260K-Q4_K_M", response.ModelId);
            Assert.True(File.Exists(Path.Combine(store, "hf.co", "acme", "stories-gguf", "gguf", "Q4_K_M", "stories260K-Q4_K_M.gguf")));
        }
        finally
        {
            (provider.GetRequiredService<IChatClient>() as IDisposable)?.Dispose();
            Directory.Delete(store, recursive: true);
        }
    }

    private sealed class SyncProgress(List<PullProgress> reports) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => reports.Add(value);
    }
}
