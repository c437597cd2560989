using System.Security.Cryptography;
using System.Text;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands.Chat;

/// <summary><c>fathom chat --url</c> against the real engine service on stories260K (and the real API in front of it for keys).</summary>
public sealed class ChatCommandServiceTests(EngineServiceFixture engine) : IClassFixture<EngineServiceFixture>
{
    private const string Story = "Once upon a time";

    [Fact]
    public async Task Answers_stream_and_the_history_clear_and_system_change_what_is_sent()
    {
        var url = engine.Require().BaseAddress.ToString();
        string input = $"{Story}\nWhat happened next?\n/clear\n{Story}\n/system You write short stories for children.\n{Story}\n";

        var run = await ChatRun.StartAsync(input, "--url", url, "--temperature", "0", "--max-tokens", "8");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("", run.Error);
        Assert.Contains("(conversation cleared)", run.Output);
        Assert.Contains("(system prompt set)", run.Output);
        var prompts = run.PromptTokens;
        var answers = run.Answers;
        Assert.Equal(4, prompts.Count);
        Assert.Equal(4, answers.Count);
        Assert.NotEqual("", answers[0]);
        // The answer came as a stream of pieces, not one write at the end.
        Assert.True(run.Writes.Count(w => answers[0].Contains(w.Trim(), StringComparison.Ordinal) && w.Trim().Length > 0) >= 2,
            string.Join("|", run.Writes));
        // The second message carries the first question and answer: at least 8 answer tokens more than the first prompt.
        Assert.True(prompts[1] >= prompts[0] + 8, $"prompts {string.Join(", ", prompts)}");
        // After /clear the same question is sent alone again, and (greedy) answered the same.
        Assert.Equal(prompts[0], prompts[2]);
        Assert.Equal(answers[0], answers[2]);
        // A system prompt adds its tokens in front.
        Assert.True(prompts[3] > prompts[0] + 5, $"prompts {string.Join(", ", prompts)}");
        Assert.Contains("tokens/s", run.Output);
    }

    [Fact]
    public async Task One_shot_prints_only_the_answer_and_the_in_process_model_answers_the_same()
    {
        var url = engine.Require().BaseAddress.ToString();

        var remote = await ChatRun.StartAsync("", "--url", url, "--prompt", Story, "--temperature", "0", "--max-tokens", "12");
        var local = await ChatRun.StartAsync("", "--model", SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), "--threads", "1",
            "--prompt", Story, "--temperature", "0", "--max-tokens", "12");

        Assert.True(remote.ExitCode == 0, remote.Error);
        Assert.True(local.ExitCode == 0, local.Error);
        Assert.DoesNotContain(">>>", remote.Output);
        Assert.DoesNotContain("tokens/s", remote.Output);
        Assert.NotEqual("", remote.Output.Trim());
        Assert.EndsWith("\n", remote.Output);
        // One serving path: the engine service and fathom chat --model render, generate and split alike.
        Assert.Equal(remote.Output, local.Output);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_one_line_and_a_failure_exit()
    {
        var run = await ChatRun.StartAsync("", "--url", $"http://127.0.0.1:{ServiceProcess.FreePort()}", "--prompt", Story);
        var bad = await ChatRun.StartAsync("", "--url", "not a url", "--prompt", Story);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.StartsWith("fathom chat: cannot reach http://127.0.0.1:", run.Error);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("is not an http:// or https:// URL", bad.Error);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_in_one_line_and_the_right_one_is_let_in()
    {
        const string Key = "fathom-chat-test-key";
        var replica = engine.Require().BaseAddress;
        await using var api = await ApiServiceProcess.StartAsync([replica], new Dictionary<string, string?>
        {
            ["Fathom__Api__KeyHashes__0"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key))),
        });
        var url = api.BaseAddress.ToString();

        var wrong = await ChatRun.StartAsync("", "--url", url, "--api-key", "not-the-key", "--prompt", Story);
        var none = await ChatRun.StartAsync("", "--url", url, "--prompt", Story);
        var right = await ChatRun.StartAsync("", "--url", url, "--api-key", Key, "--prompt", Story, "--temperature", "0", "--max-tokens", "6");

        Assert.Equal(2, wrong.ExitCode);
        Assert.Equal("", wrong.Output);
        Assert.Single(wrong.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("401", wrong.Error);
        Assert.Contains("Incorrect API key", wrong.Error);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("401", none.Error);
        Assert.True(right.ExitCode == 0, right.Error);
        Assert.NotEqual("", right.Output.Trim());
    }
}
