using System.Diagnostics;
using System.Text;
using Fathom.Connector.Tests.Support;
using Fathom.Testing;

namespace Fathom.Connector.Tests.Sample;

/// <summary>
/// Runs the sample chat app as a real process, configured the way the AppHost does it
/// (<c>services__api__http__0</c>), with stdin redirected: it must answer and exit, never wait for a terminal.
/// </summary>
public sealed class ChatSampleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The sample's own build output, same configuration as this test assembly (bin/CONFIG/TFM/).</summary>
    private static string SampleDll()
    {
        var tfmDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfmDirectory.Parent!.Name;
        var dll = Path.Combine(RepositoryRoot.Find(), "src", "Fathom.Samples.Chat", "bin", configuration, tfmDirectory.Name, "Fathom.Samples.Chat.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; the test project references the sample so that it is built");
        return dll;
    }

    private sealed record Run(int ExitCode, string Stdout, string Stderr);

    private static async Task<Run> RunSampleAsync(Uri api, string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(SampleDll())!,
            StandardOutputEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(SampleDll());
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["services__api__http__0"] = api.ToString().TrimEnd('/');
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the sample did not exit:\n{await stdout}\n{await stderr}");
        }

        return new Run(process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task One_shot_prompt_streams_the_answer_through_service_discovery()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.ModelIds.Add("stories260K");
        server.Enqueue(new ScriptedReply(Text: "Once upon a time, Lily found a ball."));

        var run = await RunSampleAsync(server.BaseAddress, stdin: "", "--prompt", "Tell a story", "--temperature", "0", "--max-tokens", "32");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("Once upon a time, Lily found a ball.", run.Stdout.Trim());
        var request = Assert.Single(server.Requests);
        Assert.Equal("stories260K", (string?)request["model"]);
        Assert.True((bool)request["stream"]!);
        Assert.Equal(0, (double)request["temperature"]!);
        Assert.Equal(32, (int)request["max_tokens"]!);
        Assert.Equal("Tell a story", (string?)request["messages"]![0]!["content"]);
    }

    [Fact]
    public async Task The_api_key_from_configuration_goes_with_every_request_as_a_bearer_token()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "Hi."));

        // Fathom:ApiKey is what the AppHost sets (Fathom__ApiKey); on the command line it is the same setting.
        var run = await RunSampleAsync(server.BaseAddress, stdin: "", "--model", "m", "--prompt", "x", "--Fathom:ApiKey", "sk-sample-key");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["Bearer sk-sample-key"], server.AuthorizationHeaders);
    }

    [Fact]
    public async Task Piped_lines_are_a_conversation_that_ends_at_eof()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "Hello Ada."));
        server.Enqueue(new ScriptedReply(Text: "You are Ada."));

        var run = await RunSampleAsync(server.BaseAddress, stdin: "I am Ada.\n\nWho am I?\n", "--model", "m", "--system", "Be kind.");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["Hello Ada.", "You are Ada."], run.Stdout.ReplaceLineEndings("\n").Trim().Split('\n'));
        Assert.Equal(2, server.Requests.Count);
        var second = server.Requests[1]["messages"]!.AsArray();
        Assert.Equal(["system", "user", "assistant", "user"], second.Select(m => (string)m!["role"]!));
        Assert.Equal("Hello Ada.", (string?)second[2]!["content"]);
    }

    [Fact]
    public async Task Empty_input_exits_without_a_request()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);

        var run = await RunSampleAsync(server.BaseAddress, stdin: "", "--model", "m");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task A_server_error_is_one_line_on_stderr_and_a_non_zero_exit()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Status: System.Net.HttpStatusCode.BadRequest, ErrorMessage: "prompt is too long"));

        var run = await RunSampleAsync(server.BaseAddress, stdin: "", "--model", "m", "--prompt", "x");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("fathom-chat: prompt is too long", run.Stderr.Trim());
    }
}
