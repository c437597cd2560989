using System.Text;

namespace Fathom.Cli.Commands.Chat;

/// <summary>
/// Reads one message of <c>fathom chat</c>: a line, or several — a line ending in <c>\</c> continues on the next, and
/// <c>"""</c> opens a block that the next <c>"""</c> closes. Null at the end of the input.
/// </summary>
internal sealed class ChatInputReader(TextReader input, TextWriter prompts)
{
    private const string Fence = "\"\"\"";

    /// <summary>The prompt shown before a message.</summary>
    public const string Prompt = ">>> ";

    /// <summary>The prompt shown before each further line of a multi-line message.</summary>
    public const string ContinuationPrompt = "... ";

    /// <summary>The next message (without its fences or continuation backslashes), or null when the input ended first.</summary>
    public string? ReadMessage()
    {
        prompts.Write(Prompt);
        prompts.Flush();
        var line = input.ReadLine();
        if (line is null)
        {
            return null;
        }

        if (line.TrimStart().StartsWith(Fence, StringComparison.Ordinal))
        {
            return ReadBlock(line.TrimStart()[Fence.Length..]);
        }

        var text = new StringBuilder();
        while (line is not null && line.EndsWith('\\'))
        {
            text.Append(line, 0, line.Length - 1).Append('\n');
            prompts.Write(ContinuationPrompt);
            prompts.Flush();
            line = input.ReadLine();
        }

        return text.Append(line).ToString();
    }

    // A block ends at the line that ends with the closing fence (text before the fence is kept) or at the end of input.
    private string ReadBlock(string first)
    {
        var lines = new List<string>();
        var line = first;
        while (true)
        {
            var trimmed = line.TrimEnd();
            if (trimmed.EndsWith(Fence, StringComparison.Ordinal) && (lines.Count > 0 || trimmed.Length > 0))
            {
                lines.Add(trimmed[..^Fence.Length]);
                break;
            }

            lines.Add(line);
            prompts.Write(ContinuationPrompt);
            prompts.Flush();
            if (input.ReadLine() is not { } next)
            {
                break;
            }

            line = next;
        }

        return string.Join('\n', lines).Trim('\n');
    }
}
