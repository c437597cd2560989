namespace Fathom.Engine.Sampling;

/// <summary>
/// Finds stop strings in a detokenized text stream whose pieces split them anywhere. Text that could still be
/// the start of a stop string is held back; on a match the text is cut just before the stop string (which is
/// not emitted) and the sequence should finish with reason <c>stop</c>.
/// </summary>
/// <remarks>One per sequence. Feed each new piece of text to <see cref="Append"/>; call <see cref="Flush"/> when
/// the sequence ends for another reason, to emit what was held back.</remarks>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private string _held = "";

    /// <summary>A matcher for <paramref name="stopStrings"/> (none: everything passes through).</summary>
    public StopStringMatcher(IEnumerable<string>? stopStrings)
    {
        _stops = [.. (stopStrings ?? []).Where(s => !string.IsNullOrEmpty(s))];
    }

    /// <summary>Whether a stop string has matched; later input is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop string that matched, if any.</summary>
    public string? MatchedStop { get; private set; }

    /// <summary>Adds the next piece of text and returns the text now safe to emit.</summary>
    public string Append(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (Stopped)
        {
            return "";
        }

        string text = _held + piece;
        int matchAt = -1;
        foreach (string stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (matchAt < 0 || at < matchAt))
            {
                matchAt = at;
                MatchedStop = stop;
            }
        }

        if (matchAt >= 0)
        {
            Stopped = true;
            _held = "";
            return text[..matchAt];
        }

        int hold = 0;
        foreach (string stop in _stops)
        {
            hold = Math.Max(hold, LongestSuffixThatStarts(text, stop));
        }

        _held = text[^hold..];
        return text[..^hold];
    }

    /// <summary>Returns the held-back text (the sequence ended without a match).</summary>
    public string Flush()
    {
        string held = Stopped ? "" : _held;
        _held = "";
        return held;
    }

    // Length of the longest proper prefix of stop that text ends with.
    private static int LongestSuffixThatStarts(string text, string stop)
    {
        for (int length = Math.Min(stop.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
