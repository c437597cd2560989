using Fathom.Cli.Commands.Chat;
using Fathom.Engine.Model;
using Fathom.Testing;

namespace Fathom.Cli.Tests.Commands.Chat;

/// <summary><c>fathom chat --model</c>: the model run in this process through the engine's serving layer.</summary>
public sealed class ChatCommandInProcessTests
{
    private const string Story = "Once upon a time";

    [Fact]
    public async Task A_DeepSeek_R1_template_shows_the_reasoning_apart_or_folds_it_into_one_line()
    {
        using var model = GgufTemplateCopy.DeepSeekR1Stories();

        var shown = await ChatRun.StartAsync(Story + "\n", "--model", model.Path, "--threads", "1", "--temperature", "0", "--max-tokens", "10");
        var hidden = await ChatRun.StartAsync(Story + "\n", "--model", model.Path, "--threads", "1", "--temperature", "0", "--max-tokens", "10", "--hide-reasoning");

        Assert.True(shown.ExitCode == 0, shown.Error);
        Assert.True(hidden.ExitCode == 0, hidden.Error);
        // The template opens <think> and the story model never closes it: all ten tokens are reasoning.
        var thinking = shown.Output.IndexOf("Thinking...\n", StringComparison.Ordinal);
        var done = shown.Output.IndexOf("...done thinking.", StringComparison.Ordinal);
        Assert.True(thinking >= 0 && done > thinking, shown.Output);
        var reasoning = shown.Output[(thinking + "Thinking...\n".Length)..done].Trim();
        Assert.NotEqual("", reasoning);
        Assert.DoesNotContain("<think>", shown.Output);
        Assert.Contains("(thought for 10 tokens)", hidden.Output);
        Assert.DoesNotContain(reasoning, hidden.Output);
        Assert.DoesNotContain("Thinking...", hidden.Output);
    }

    [Fact]
    public async Task A_missing_model_file_is_one_line_and_a_failure_exit()
    {
        var run = await ChatRun.StartAsync("", "--model", Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.gguf"), "--prompt", Story);
        var neither = await ChatRun.StartAsync("", "--prompt", Story);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("fathom chat: ", run.Error);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("give --model FILE", neither.Error);
    }

    [Fact]
    public async Task A_conversation_past_the_context_is_one_error_line_and_the_chat_goes_on()
    {
        // stories260K holds 2048 tokens: a system prompt of some 2,600 cannot fit.
        var longSystem = string.Join(' ', Enumerable.Repeat("The little dog ran to the park and played with a red ball.", 120));
        string input = $"/system {longSystem}\n{Story}\n/system\n{Story}\n";

        var run = await ChatRun.StartAsync(input, "--model", SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), "--threads", "1",
            "--temperature", "0", "--max-tokens", "8");

        Assert.True(run.ExitCode == 0, run.Error);
        var errors = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(errors);
        Assert.StartsWith("fathom chat: ", errors[0]);
        Assert.Contains("The prompt has", errors[0]); // the engine's own reason
        Assert.Contains("(system prompt removed)", run.Output);
        Assert.Single(run.PromptTokens); // only the message after the system prompt went away was answered
    }

    [Fact]
    public async Task Stopping_an_answer_keeps_the_chat_going_and_drops_the_turn()
    {
        await using var backend = LocalChatBackend.Load(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), ComputeBackendKind.Cpu, threads: 1);
        using var output = new ChatRun.RecordingWriter();
        using var error = new StringWriter();
        var chat = new ChatConsole(backend, output, error, new ChatSettings(0f, MaxTokens: 400), system: null, hideReasoning: false, color: false);
        int stops = 0;
        // Ctrl+C as the console delivers it: while the first answer streams.
        output.OnWrite = text =>
        {
            if (stops == 0 && text != ChatInputReader.Prompt && !text.StartsWith("Chatting", StringComparison.Ordinal) && chat.CancelAnswer())
            {
                stops++;
            }
        };

        var exit = await chat.RunAsync(new StringReader($"{Story}\n{Story}\n"), TestContext.Current.CancellationToken);

        Assert.Equal(0, exit);
        Assert.Equal(1, stops);
        Assert.Equal("", error.ToString());
        Assert.Contains("[answer stopped; not kept in the history]", output.ToString());
        Assert.False(chat.CancelAnswer()); // nothing runs any more
        // Only the second, whole turn is kept.
        Assert.Equal(["user", "assistant"], chat.History.Select(l => l.Role));
        Assert.Contains("[prompt", output.ToString());
    }

    [Theory]
    [InlineData("one line\n", "one line")]
    [InlineData("first \\\nsecond\n", "first \nsecond")]
    [InlineData("\"\"\"\nfirst\n\nsecond\n\"\"\"\n", "first\n\nsecond")]
    [InlineData("\"\"\"first\nsecond\"\"\"\nnext\n", "first\nsecond")]
    [InlineData("\"\"\"unclosed\nat the end", "unclosed\nat the end")]
    public void Multi_line_messages_join_their_lines(string typed, string message)
    {
        var reader = new ChatInputReader(new StringReader(typed), TextWriter.Null);

        Assert.Equal(message, reader.ReadMessage());
    }

    [Fact]
    public void The_end_of_the_input_is_no_message()
    {
        Assert.Null(new ChatInputReader(new StringReader(""), TextWriter.Null).ReadMessage());
    }
}
