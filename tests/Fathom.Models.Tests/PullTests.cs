namespace Fathom.Models.Tests;

public sealed class PullTests : StoreTestBase
{
    private const string Repo = "acme/Tiny-GGUF";

    [Fact]
    public async Task A_split_GGUF_model_is_pulled_part_by_part_and_checked()
    {
        Hub.TreePageSize = 2;   // several tree pages: the client must follow Link: rel="next"
        byte[][] parts = [Bytes(70_000, 1), Bytes(50_000, 2), Bytes(3_000, 3)];
        for (var i = 0; i < parts.Length; i++)
        {
            Hub.AddFile(Repo, $"Q8_0/Tiny-Q8_0-0000{i + 1}-of-00003.gguf", parts[i]);
        }

        Hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", Bytes(1000, 9));
        Hub.AddFile(Repo, "README.md", "# Tiny"u8.ToArray());
        using var store = Store();
        var progress = new Recorder();

        var model = await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}:q8_0"), progress, TestContext.Current.CancellationToken);

        Assert.Equal($"hf.co/{Repo}:q8_0", model.Reference);
        Assert.Equal("Tiny-Q8_0-00001-of-00003.gguf", Path.GetFileName(model.Path));
        for (var i = 0; i < parts.Length; i++)
        {
            Assert.Equal(parts[i], await File.ReadAllBytesAsync(Path.Combine(model.Directory, $"Tiny-Q8_0-0000{i + 1}-of-00003.gguf"), TestContext.Current.CancellationToken));
        }

        Assert.Equal(parts.Sum(p => p.Length), model.SizeBytes);
        Assert.Empty(Directory.GetFiles(model.Directory, "*.partial*"));
        Assert.Contains(Hub.Requests, r => r.PathAndQuery.Contains("cursor="));
        Assert.DoesNotContain(Hub.Requests, r => r.PathAndQuery.Contains("Q4_K_M", StringComparison.Ordinal) && r.PathAndQuery.Contains("resolve"));
        var last = progress.Reports[^1];
        Assert.Equal(PullStage.Complete, last.Stage);
        Assert.Equal(3, last.FileCount);
        Assert.Equal(parts.Sum(p => p.Length), last.BytesDone);
        Assert.Equal(1.0, last.Fraction);
        Assert.Contains(progress.Reports, r => r.Stage == PullStage.Verifying);
    }

    [Fact]
    public async Task A_cut_connection_leaves_a_partial_file_that_the_next_pull_resumes_with_Range()
    {
        byte[] content = Bytes(300_000, 4);
        Hub.AddFile(Repo, "Tiny-F32.gguf", content);
        Hub.CutNextDownloadAfter(Repo, "Tiny-F32.gguf", 120_000);
        var reference = ModelReference.Parse($"hf.co/{Repo}:F32");

        using (var once = Store(configure: o => o with { MaxRetries = 0 }))
        {
            var error = await Assert.ThrowsAsync<ModelDownloadException>(() => once.PullAsync(reference, null, TestContext.Current.CancellationToken));
            Assert.Contains("pull again to resume", error.Message);
        }

        string partial = Path.Combine(Root, "hf.co", "acme", "tiny-gguf", "gguf", "F32", "Tiny-F32.gguf.partial");
        // What arrived before the reset is kept (the server sent 120,000 bytes; a reset may drop the last of them).
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, 120_000);
        Assert.Null(Store().Find(reference));

        using var again = Store();
        var model = await again.PullAsync(reference, null, TestContext.Current.CancellationToken);

        Assert.Equal(content, await File.ReadAllBytesAsync(model.Path, TestContext.Current.CancellationToken));
        var downloads = Hub.Requests.Where(r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, downloads.Count);
        Assert.Null(downloads[0].Range);
        Assert.Equal($"bytes={kept}-299999", downloads[1].Range);
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task Within_one_pull_a_cut_is_retried_from_where_it_stopped()
    {
        byte[] content = Bytes(200_000, 5);
        Hub.AddFile(Repo, "Tiny-F16.gguf", content);
        Hub.CutNextDownloadAfter(Repo, "Tiny-F16.gguf", 65_536);
        var progress = new Recorder();
        using var store = Store();

        var model = await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}:F16"), progress, TestContext.Current.CancellationToken);

        Assert.Equal(content, await File.ReadAllBytesAsync(model.Path, TestContext.Current.CancellationToken));
        var downloads = Hub.Requests.Where(r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, downloads.Count);
        Assert.Matches(@"^bytes=\d+-199999$", downloads[1].Range);
        Assert.NotEqual("bytes=0-199999", downloads[1].Range);
        Assert.Equal(200_000, progress.Reports[^1].BytesDone);
    }

    [Fact]
    public async Task A_large_file_downloads_in_parallel_ranges()
    {
        byte[] content = Bytes(4 * 1024 * 1024 + 123, 6);
        Hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", content);
        using var store = Store(configure: o => o with { ParallelRanges = 4, ParallelThresholdBytes = 1 << 20 });

        var model = await store.PullAsync(ModelReference.Parse($"hf.co/{Repo}"), null, TestContext.Current.CancellationToken);

        Assert.Equal(content, await File.ReadAllBytesAsync(model.Path, TestContext.Current.CancellationToken));
        var ranges = Hub.Requests.Where(r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal)).Select(r => r.Range).ToList();
        Assert.Equal(4, ranges.Count);
        Assert.Contains("bytes=0-1048606", ranges);
        Assert.All(ranges, r => Assert.StartsWith("bytes=", r));
    }

    [Fact]
    public async Task A_cut_parallel_range_resumes_only_that_range()
    {
        byte[] content = Bytes(4 * 1024 * 1024, 7);
        Hub.AddFile(Repo, "Tiny-Q4_K_M.gguf", content);
        Hub.CutNextDownloadAfter(Repo, "Tiny-Q4_K_M.gguf", 500_000);
        var reference = ModelReference.Parse($"hf.co/{Repo}:Q4_K_M");
        using (var once = Store(configure: o => o with { ParallelRanges = 2, ParallelThresholdBytes = 1 << 20, MaxRetries = 0 }))
        {
            await Assert.ThrowsAsync<ModelDownloadException>(() => once.PullAsync(reference, null, TestContext.Current.CancellationToken));
        }

        int before = Hub.Requests.Count;
        using var again = Store(configure: o => o with { ParallelRanges = 2, ParallelThresholdBytes = 1 << 20 });
        var model = await again.PullAsync(reference, null, TestContext.Current.CancellationToken);

        Assert.Equal(content, await File.ReadAllBytesAsync(model.Path, TestContext.Current.CancellationToken));
        var resumed = Hub.Requests.Skip(before).Where(r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal)).Select(r => r.Range).ToList();
        Assert.NotEmpty(resumed);
        // The cut range goes on from where it stopped (a range that never started may begin again at its start).
        Assert.Contains(resumed, r => r is not ("bytes=0-2097151" or "bytes=2097152-4194303"));
    }

    [Fact]
    public async Task A_corrupted_byte_fails_the_SHA256_check_and_the_file_is_not_marked_complete()
    {
        Hub.AddFile(Repo, "Tiny-Q8_0.gguf", Bytes(100_000, 8));
        Hub.CorruptByte(Repo, "Tiny-Q8_0.gguf", 54_321);
        var reference = ModelReference.Parse($"hf.co/{Repo}:Q8_0");
        using var store = Store();

        var error = await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.PullAsync(reference, null, TestContext.Current.CancellationToken));

        Assert.Contains("SHA-256", error.Message);
        Assert.Contains("not marked complete", error.Message);
        Assert.Null(store.Find(reference));
        Assert.Empty(store.List());
        string folder = Path.Combine(Root, "hf.co", "acme", "tiny-gguf", "gguf", "Q8_0");
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task A_file_kept_in_git_is_checked_against_its_blob_id()
    {
        const string St = "acme/tiny-st";
        Hub.AddFile(St, "model.safetensors", Bytes(20_000, 10));
        Hub.AddFile(St, "config.json", """{"model_type":"llama"}"""u8.ToArray());
        Hub.AddFile(St, "tokenizer.json", """{"model":{}}"""u8.ToArray());
        Hub.AddFile(St, "README.md", "# readme"u8.ToArray());
        Hub.AddFile(St, "onnx/model.onnx", Bytes(100, 11));
        Hub.CorruptByte(St, "config.json", 3);
        using var store = Store();

        var error = await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.PullAsync(ModelReference.Parse(St), null, TestContext.Current.CancellationToken));
        Assert.Contains("git blob id", error.Message);
    }

    [Fact]
    public async Task A_safetensors_repository_brings_its_config_tokenizer_and_weights()
    {
        const string St = "acme/tiny-st";
        byte[] weights = Bytes(20_000, 12);
        Hub.AddFile(St, "model.safetensors", weights);
        Hub.AddFile(St, "config.json", """{"model_type":"llama"}"""u8.ToArray());
        Hub.AddFile(St, "tokenizer.json", """{"model":{}}"""u8.ToArray());
        Hub.AddFile(St, "tokenizer.model", Bytes(300, 13), lfs: true);
        Hub.AddFile(St, "README.md", "# readme"u8.ToArray());
        Hub.AddFile(St, "onnx/model.onnx", Bytes(100, 14));
        using var store = Store();

        var model = await store.PullAsync(ModelReference.Parse(St), null, TestContext.Current.CancellationToken);

        Assert.Equal(model.Directory, model.Path);
        Assert.Equal(
            ["config.json", "fathom-model.json", "model.safetensors", "tokenizer.json", "tokenizer.model"],
            Directory.GetFiles(model.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(weights, await File.ReadAllBytesAsync(Path.Combine(model.Path, "model.safetensors"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_unknown_repository_is_not_found()
    {
        using var store = Store();
        var error = await Assert.ThrowsAsync<ModelNotFoundException>(() => store.PullAsync(ModelReference.Parse("hf.co/acme/nothing:Q4_K_M"), null, TestContext.Current.CancellationToken));
        Assert.Contains("acme/nothing was not found", error.Message);
    }

    [Fact]
    public async Task An_unknown_tag_names_the_tags_there_are()
    {
        Hub.AddFile(Repo, "Tiny-Q8_0.gguf", Bytes(100, 15));
        Hub.AddFile(Repo, "Tiny-F16.gguf", Bytes(100, 16));
        using var store = Store();
        var error = await Assert.ThrowsAsync<ModelNotFoundException>(() => store.PullAsync(ModelReference.Parse($"hf.co/{Repo}:Q2_K"), null, TestContext.Current.CancellationToken));
        Assert.Contains(":F16, :Q8_0", error.Message);
    }

    [Fact]
    public async Task A_URL_is_pulled_and_checked_against_its_linked_etag()
    {
        byte[] content = Bytes(50_000, 17);
        Hub.AddFile(Repo, "Tiny-Q8_0.gguf", content);
        var url = $"{Hub.Endpoint}{Repo}/resolve/main/Tiny-Q8_0.gguf";
        using var store = Store();

        string path = await store.ResolveAsync(url, null, TestContext.Current.CancellationToken);

        Assert.Equal("Tiny-Q8_0.gguf", Path.GetFileName(path));
        Assert.Equal(content, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.Contains(Hub.Requests, r => r.Method == "HEAD");

        Hub.CorruptByte(Repo, "Tiny-Q8_0.gguf", 10);
        Assert.True(store.Remove(ModelReference.Parse(url)));
        await Assert.ThrowsAsync<ChecksumMismatchException>(() => store.ResolveAsync(url, null, TestContext.Current.CancellationToken));
    }
}
