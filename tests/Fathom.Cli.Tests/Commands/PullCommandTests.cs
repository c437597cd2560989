using System.Diagnostics;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands;

/// <summary>
/// <c>fathom pull</c>, <c>list</c>, <c>rm</c> and a <c>--model</c> reference, run as the user runs them: the built
/// <c>fathom</c> as a child process with <c>HF_ENDPOINT</c> pointed at an in-process fake hub.
/// </summary>
public sealed class PullCommandTests : IAsyncLifetime
{
    private const string Repo = "acme/Stories-GGUF";
    private readonly string _store = Directory.CreateTempSubdirectory("fathom-cli-store-").FullName;
    private FakeHub _hub = null!;

    public async ValueTask InitializeAsync() => _hub = await FakeHub.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _hub.DisposeAsync();
        Directory.Delete(_store, recursive: true);
    }

    [Fact]
    public async Task Pull_list_and_rm_work_end_to_end_against_the_hub_in_HF_ENDPOINT()
    {
        byte[] model = await File.ReadAllBytesAsync(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), TestContext.Current.CancellationToken);
        _hub.AddFile(Repo, "stories260K-F32.gguf", model);
        _hub.AddFile(Repo, "stories260K-Q4_K_M.gguf", model[..1000]);

        var pull = await FathomAsync("pull", $"hf.co/{Repo}:f32");
        Assert.True(pull.Exit == 0, pull.Error);
        string path = Path.Combine(_store, "hf.co", "acme", "stories-gguf", "gguf", "F32", "stories260K-F32.gguf");
        Assert.Equal($"hf.co/{Repo}:f32 1.1 MiB {path}", pull.Output.Trim());
        Assert.Equal(model, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        // Not a terminal: whole progress lines, the last one complete.
        var lines = pull.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith($"pulling hf.co/{Repo}:f32: ", l));
        Assert.Contains("stories260K-F32.gguf (1/1)", lines[0]);
        Assert.Contains("100% 1.1 MiB of 1.1 MiB", lines[^1]);
        Assert.EndsWith(" complete", lines[^1].TrimEnd());

        var list = await FathomAsync("list");
        Assert.Equal(0, list.Exit);
        Assert.Contains($"hf.co/{Repo}:f32", list.Output);
        Assert.Contains(path, list.Output);

        var generate = await FathomAsync("generate", "--model", $"hf.co/{Repo}:F32", "--prompt", "Once upon a time", "--max-tokens", "12", "--threads", "1");
        Assert.True(generate.Exit == 0, generate.Error);
        Assert.StartsWith(", there was a little girl named Lily.", generate.Output);

        var rm = await FathomAsync("rm", $"hf.co/{Repo}:F32");
        Assert.Equal(0, rm.Exit);
        Assert.Equal($"removed hf.co/{Repo}:f32", rm.Output.Trim());
        Assert.False(File.Exists(path));

        var again = await FathomAsync("rm", $"hf.co/{Repo}:F32");
        Assert.Equal(2, again.Exit);
        Assert.StartsWith("fathom rm: ", again.Error);
        Assert.Contains("not in the model store", again.Error);
    }

    [Fact]
    public async Task A_reference_passed_to_generate_is_pulled_first()
    {
        byte[] model = await File.ReadAllBytesAsync(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), TestContext.Current.CancellationToken);
        _hub.AddFile(Repo, "stories260K-Q4_K_M.gguf", model);

        var generate = await FathomAsync("generate", "--model", $"hf.co/{Repo}", "--prompt", "Once upon a time", "--max-tokens", "12", "--threads", "1");

        Assert.True(generate.Exit == 0, generate.Error);
        Assert.Contains("complete", generate.Error);
        Assert.StartsWith(", there was a little girl named Lily.", generate.Output);
        Assert.True(File.Exists(Path.Combine(_store, "hf.co", "acme", "stories-gguf", "gguf", "Q4_K_M", "stories260K-Q4_K_M.gguf")));
    }

    [Fact]
    public async Task A_reference_passed_to_chat_is_pulled_first()
    {
        byte[] model = await File.ReadAllBytesAsync(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), TestContext.Current.CancellationToken);
        _hub.AddFile(Repo, "stories260K-Q8_0.gguf", model);

        var chat = await FathomAsync("chat", "--model", $"hf.co/{Repo}:Q8_0", "--prompt", "Once upon a time", "--max-tokens", "8",
            "--temperature", "0", "--threads", "1");

        Assert.True(chat.Exit == 0, chat.Error);
        Assert.Contains("complete", chat.Error);
        Assert.False(string.IsNullOrWhiteSpace(chat.Output), chat.Error);
        Assert.True(File.Exists(Path.Combine(_store, "hf.co", "acme", "stories-gguf", "gguf", "Q8_0", "stories260K-Q8_0.gguf")));
    }

    [Theory]
    [InlineData("hf.co/acme/missing:Q4_K_M", "acme/missing was not found")]
    [InlineData("hf.co/acme/Gated-GGUF:Q4_K_M", "set HF_TOKEN")]
    [InlineData("not a model", "is not a model reference")]
    [InlineData("hf.co/acme/Open-GGUF:Q9_X", "no Q9_X quantization; it has :Q4_K_M")]
    public async Task Failures_are_one_line_and_a_non_zero_exit(string reference, string message)
    {
        _hub.AddFile("acme/Gated-GGUF", "Gated-Q4_K_M.gguf", new byte[100]);
        _hub.Gate("acme/Gated-GGUF", "hf_right");
        _hub.AddFile("acme/Open-GGUF", "Open-Q4_K_M.gguf", new byte[100]);

        var pull = await FathomAsync("pull", reference);

        Assert.Equal(2, pull.Exit);
        Assert.Empty(pull.Output);
        string line = Assert.Single(pull.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("fathom pull: ", line);
        Assert.Contains(message, line);
    }

    [Fact]
    public async Task A_gated_model_pulls_with_HF_TOKEN()
    {
        _hub.AddFile("acme/Gated-GGUF", "Gated-Q4_K_M.gguf", new byte[100]);
        _hub.Gate("acme/Gated-GGUF", "hf_right");

        var pull = await FathomAsync(new Dictionary<string, string?> { ["HF_TOKEN"] = "hf_right" }, "pull", "hf.co/acme/Gated-GGUF");

        Assert.True(pull.Exit == 0, pull.Error);
        Assert.StartsWith("hf.co/acme/Gated-GGUF:Q4_K_M 100 B ", pull.Output);
    }

    private Task<(int Exit, string Output, string Error)> FathomAsync(params string[] args) => FathomAsync(null, args);

    private async Task<(int Exit, string Output, string Error)> FathomAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _store,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fathom.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HF_ENDPOINT"] = _hub.Endpoint.ToString();
        psi.Environment["FATHOM_MODELS"] = _store;
        psi.Environment["HF_HOME"] = Path.Combine(_store, ".hf-home");   // no token file of the machine's user
        psi.Environment.Remove("HF_TOKEN");
        psi.Environment.Remove("HUGGING_FACE_HUB_TOKEN");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}
