namespace Fathom.Models.Tests;

public sealed class GatedRepositoryTests : StoreTestBase
{
    private const string Repo = "meta-llama/Gated-GGUF";
    private static readonly ModelReference Reference = ModelReference.Parse($"hf.co/{Repo}:Q4_K_M");

    private byte[] AddGatedModel()
    {
        byte[] content = Bytes(40_000, 21);
        Hub.AddFile(Repo, "Gated-Q4_K_M.gguf", content);
        Hub.Gate(Repo, "hf_secret");
        return content;
    }

    [Fact]
    public async Task Without_a_token_the_error_says_to_set_HF_TOKEN()
    {
        AddGatedModel();
        using var store = Store(token: null);

        var error = await Assert.ThrowsAsync<GatedModelException>(() => store.PullAsync(Reference, null, TestContext.Current.CancellationToken));

        Assert.Contains("set HF_TOKEN", error.Message);
        Assert.Contains(Repo, error.Message);
        Assert.DoesNotContain(Hub.Requests, r => r.PathAndQuery.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_download_refused_with_401_is_reported_as_gated()
    {
        AddGatedModel();
        using var store = Store(token: null);
        var url = $"{Hub.Endpoint}{Repo}/resolve/main/Gated-Q4_K_M.gguf";

        var error = await Assert.ThrowsAsync<GatedModelException>(() => store.ResolveAsync(url, null, TestContext.Current.CancellationToken));

        Assert.Contains("set HF_TOKEN", error.Message);
        Assert.Contains("401", error.Message);
    }

    [Fact]
    public async Task With_the_token_it_pulls_and_the_token_never_reaches_the_CDN()
    {
        byte[] content = AddGatedModel();
        using var store = Store(token: "hf_secret");

        var model = await store.PullAsync(Reference, null, TestContext.Current.CancellationToken);

        Assert.Equal(content, await File.ReadAllBytesAsync(model.Path, TestContext.Current.CancellationToken));
        Assert.Contains(Hub.Requests, r => r.PathAndQuery.Contains("/resolve/", StringComparison.Ordinal) && r.Authorization == "Bearer hf_secret");
        var cdn = Hub.Requests.Where(r => r.Port == Hub.Cdn.Port).ToList();
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task A_token_without_access_gets_a_403_that_says_to_accept_the_terms()
    {
        AddGatedModel();
        using var store = Store(token: "hf_other");

        var error = await Assert.ThrowsAsync<GatedModelException>(() => store.PullAsync(Reference, null, TestContext.Current.CancellationToken));

        Assert.Contains("403", error.Message);
        Assert.Contains("accept its terms", error.Message);
    }

    [Fact]
    public void HF_ENDPOINT_and_HF_TOKEN_are_read_as_Hugging_Face_reads_them()
    {
        var env = new Dictionary<string, string?> { ["HF_ENDPOINT"] = "http://127.0.0.1:9/", ["HF_TOKEN"] = " hf_abc " };
        var settings = HubSettings.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal("http://127.0.0.1:9/", settings.Endpoint.ToString());
        Assert.Equal("hf_abc", settings.Token);

        string home = Directory.CreateTempSubdirectory("fathom-hfhome-").FullName;
        File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");
        var fromFile = HubSettings.FromEnvironment(k => k == "HF_HOME" ? home : null);
        Assert.Equal("https://huggingface.co/", fromFile.Endpoint.ToString());
        Assert.Equal("hf_from_file", fromFile.Token);
        Directory.Delete(home, recursive: true);

        Assert.Throws<ArgumentException>(() => HubSettings.FromEnvironment(k => k == "HF_ENDPOINT" ? "ftp://x" : null));
    }
}
