namespace Fathom.Engine.Tokenization;

/// <summary>
/// Hugging Face's <c>Metaspace</c> pre-tokenizer: spaces become <see cref="Replacement"/>, one is put before the text
/// as <see cref="PrependScheme"/> says, and with <see cref="Split"/> each word starts at a replacement character.
/// </summary>
/// <param name="Replacement">The character that stands for a space (SentencePiece's <c>▁</c>).</param>
/// <param name="PrependScheme">Where a replacement character is put before text that does not start with one.</param>
/// <param name="Split">Whether the text is split into words, each starting with the replacement character.</param>
public sealed record MetaspaceSettings(char Replacement, MetaspacePrependScheme PrependScheme, bool Split)
{
    /// <summary>
    /// Applies the pre-tokenizer to one piece of text between added tokens (<paramref name="atStart"/>: it starts the
    /// input, which <c>first</c> needs), appends its words as (start, length) ranges and returns the text they index.
    /// </summary>
    internal ReadOnlySpan<char> Apply(ReadOnlySpan<char> text, bool atStart, List<(int Start, int Length)> words)
    {
        var replaced = text.ToString().Replace(' ', Replacement);
        var prepend = PrependScheme == MetaspacePrependScheme.Always || (PrependScheme == MetaspacePrependScheme.First && atStart);
        // Spaces are replaced first, so text that starts with a space gets no second replacement character.
        if (prepend && replaced[0] != Replacement)
        {
            replaced = Replacement + replaced;
        }
        if (!Split)
        {
            words.Add((0, replaced.Length));
            return replaced;
        }
        var start = 0;
        for (var i = 1; i < replaced.Length; i++)
        {
            if (replaced[i] == Replacement)
            {
                words.Add((start, i - start));
                start = i;
            }
        }
        words.Add((start, replaced.Length - start));
        return replaced;
    }
}

/// <summary>Hugging Face <c>Metaspace.prepend_scheme</c>.</summary>
public enum MetaspacePrependScheme
{
    /// <summary><c>always</c>: before every piece of text, also after added tokens.</summary>
    Always,

    /// <summary><c>first</c>: only before the text at the start of the input.</summary>
    First,

    /// <summary><c>never</c>.</summary>
    Never,
}
