using System.CommandLine;
using System.Text.RegularExpressions;
using Fathom.Cli.Commands.Chat;

namespace Fathom.Cli.Tests.Commands.Chat;

/// <summary>One <c>fathom chat</c> run in-process: typed input in, what it printed (and each streamed write) out.</summary>
internal sealed partial record ChatRun(int ExitCode, string Output, string Error, IReadOnlyList<string> Writes)
{
    public static async Task<ChatRun> StartAsync(string input, params string[] args)
    {
        using var output = new RecordingWriter();
        using var error = new StringWriter();
        var root = new RootCommand { ChatCommand.Create(new StringReader(input)) };
        var exit = await root.Parse(["chat", .. args])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return new ChatRun(exit, output.ToString(), error.ToString(), output.Writes);
    }

    /// <summary>The prompt token counts of each answer, in order, from the line printed after it.</summary>
    public IReadOnlyList<int> PromptTokens => [.. PromptTokensPattern().Matches(Output).Select(m => int.Parse(m.Groups[1].Value))];

    /// <summary>The answers, in order: the text between each message's prompt and the numbers after it.</summary>
    public IReadOnlyList<string> Answers =>
        [.. AnswerPattern().Matches(Output).Select(m => m.Groups[1].Value.Trim())];

    [GeneratedRegex(@"\[prompt (\d+) tokens")]
    private static partial Regex PromptTokensPattern();

    [GeneratedRegex(@">>> ((?:(?!>>> ).)*?)\n\[prompt", RegexOptions.Singleline)]
    private static partial Regex AnswerPattern();

    /// <summary>Keeps every write, so a test can see that an answer arrived in pieces.</summary>
    internal sealed class RecordingWriter : StringWriter
    {
        private readonly List<string> _writes = [];

        public IReadOnlyList<string> Writes
        {
            get
            {
                lock (_writes)
                {
                    return [.. _writes];
                }
            }
        }

        public Action<string>? OnWrite { get; set; }

        public override void Write(string? value)
        {
            if (value is { Length: > 0 })
            {
                lock (_writes)
                {
                    _writes.Add(value);
                }
            }

            base.Write(value);
            if (value is { Length: > 0 })
            {
                OnWrite?.Invoke(value);
            }
        }
    }
}
