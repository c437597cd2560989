using System.Diagnostics;

namespace Fathom.Models.Tests;

public sealed class DiskSpaceTests : StoreTestBase
{
    private const string Repo = "acme/Big-GGUF";

    [Fact]
    public async Task A_store_on_a_small_tmpfs_is_refused_before_any_byte_is_downloaded()
    {
        string mountPoint = Directory.CreateTempSubdirectory("fathom-tmpfs-").FullName;
        if (!Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint))
        {
            Directory.Delete(mountPoint);
            // Mounting needs root; elsewhere the same check runs through the injected probe below.
            Assert.Skip("mounting a tmpfs needs root");
        }

        try
        {
            Hub.AddFile(Repo, "Big-Q4_K_M.gguf", Bytes(3 * 1024 * 1024, 31));
            using var store = Store(root: Path.Combine(mountPoint, "store"));

            var error = await Assert.ThrowsAsync<InsufficientDiskSpaceException>(() => store.PullAsync(ModelReference.Parse($"hf.co/{Repo}"), null, TestContext.Current.CancellationToken));

            Assert.Equal(3 * 1024 * 1024, error.BytesNeeded);
            Assert.True(error.BytesFree < error.BytesNeeded);
            Assert.Contains("needs 3.0 MiB", error.Message);
            Assert.DoesNotContain(Hub.Requests, r => r.PathAndQuery.StartsWith("/cdn/", StringComparison.Ordinal));
        }
        finally
        {
            Run("umount", mountPoint);
            Directory.Delete(mountPoint, recursive: true);
        }
    }

    [Fact]
    public async Task The_free_space_check_counts_only_what_is_left_to_download()
    {
        byte[] content = Bytes(500_000, 32);
        Hub.AddFile(Repo, "Big-Q4_K_M.gguf", content);
        Hub.CutNextDownloadAfter(Repo, "Big-Q4_K_M.gguf", 200_000);
        var reference = ModelReference.Parse($"hf.co/{Repo}:Q4_K_M");
        using (var once = Store(configure: o => o with { MaxRetries = 0 }))
        {
            await Assert.ThrowsAsync<ModelDownloadException>(() => once.PullAsync(reference, null, TestContext.Current.CancellationToken));
        }

        long kept = new FileInfo(Path.Combine(Root, "hf.co", "acme", "big-gguf", "gguf", "Q4_K_M", "Big-Q4_K_M.gguf.partial")).Length;
        Assert.InRange(kept, 1, 200_000);
        long left = content.Length - kept;
        using (var tight = Store(configure: o => o with { FreeSpaceProbe = _ => left - 1 }))
        {
            var error = await Assert.ThrowsAsync<InsufficientDiskSpaceException>(() => tight.PullAsync(reference, null, TestContext.Current.CancellationToken));
            Assert.Equal(left, error.BytesNeeded);
            Assert.Contains($"{left:N0} bytes", error.Message);
        }

        string? asked = null;
        using var enough = Store(configure: o => o with { FreeSpaceProbe = dir => { asked = dir; return left; } });
        var model = await enough.PullAsync(reference, null, TestContext.Current.CancellationToken);
        Assert.Equal(model.Directory, asked);
        Assert.Equal(content, await File.ReadAllBytesAsync(model.Path, TestContext.Current.CancellationToken));
    }

    private static bool Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }

            using var process = Process.Start(psi)!;
            process.WaitForExit(10_000);
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
