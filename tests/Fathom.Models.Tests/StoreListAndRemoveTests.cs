namespace Fathom.Models.Tests;

public sealed class StoreListAndRemoveTests : StoreTestBase
{
    private const string Repo = "acme/Tiny-GGUF";

    [Fact]
    public async Task Pulled_models_are_listed_found_without_the_network_and_removed()
    {
        Hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", Bytes(1000, 41));
        Hub.AddFile(Repo, "Tiny-Q8_0.gguf", Bytes(2000, 42));
        using var store = Store();
        await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}"), null, TestContext.Current.CancellationToken);
        await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}:Q8_0"), null, TestContext.Current.CancellationToken);

        var listed = store.List();
        Assert.Equal([$"hf.co/{Repo}:Q4_K_M", $"hf.co/{Repo}:Q8_0"], listed.Select(m => m.Reference));
        Assert.Equal([1000L, 2000L], listed.Select(m => m.SizeBytes));

        int requests = Hub.Requests.Count;
        Assert.Equal(listed[0].Path, await store.ResolveAsync($"hf.co/{Repo}", null, TestContext.Current.CancellationToken));
        Assert.Equal(listed[1].Path, await store.ResolveAsync($"hf.co/{Repo.ToLowerInvariant()}:q8_0", null, TestContext.Current.CancellationToken));
        Assert.Equal(requests, Hub.Requests.Count);

        Assert.True(store.Remove(ModelReference.Parse($"hf.co/{Repo}:q8_0")));
        Assert.False(store.Remove(ModelReference.Parse($"hf.co/{Repo}:q8_0")));
        Assert.Equal([$"hf.co/{Repo}:Q4_K_M"], store.List().Select(m => m.Reference));
        Assert.True(store.Remove(ModelReference.Parse($"hf.co/{Repo}")));
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task A_second_pull_of_a_complete_model_downloads_nothing()
    {
        Hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", Bytes(1000, 43));
        using var store = Store();
        var first = await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}:Q4_K_M"), null, TestContext.Current.CancellationToken);
        int requests = Hub.Requests.Count;

        var second = await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}:Q4_K_M"), null, TestContext.Current.CancellationToken);

        Assert.Equal(first.Path, second.Path);
        Assert.Equal(requests, Hub.Requests.Count);
    }

    [Fact]
    public async Task Two_stores_pulling_the_same_model_at_once_download_it_once()
    {
        Hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", Bytes(2_000_000, 44));
        using var a = Store();
        using var b = Store();
        var reference = ModelReference.Parse($"hf.co/{Repo}:Q4_K_M");

        var results = await Task.WhenAll(
            Task.Run(() => a.PullAsync(reference, null, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken),
            Task.Run(() => b.PullAsync(reference, null, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken));

        Assert.Equal(results[0].Path, results[1].Path);
        Assert.Single(Hub.Requests, r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_path_that_exists_or_is_no_reference_resolves_to_itself()
    {
        using var store = Store();
        string file = Path.Combine(Root, "local.gguf");
        File.WriteAllBytes(file, [1, 2, 3]);
        Assert.Equal(file, await store.ResolveAsync(file, null, TestContext.Current.CancellationToken));
        Assert.Equal("missing.gguf", await store.ResolveAsync("missing.gguf", null, TestContext.Current.CancellationToken));
    }
}
