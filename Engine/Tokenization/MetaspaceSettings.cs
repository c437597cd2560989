namespace Fathom.Engine.Tokenization;

/// <summary>
/// Hugging Face's <c>Metaspace</c> pre-tokenizer: spaces become <see cref="Replacement"/>, one is put before the text
/// as <see cref="PrependScheme"/> says, and with <see cref="Split"/> each word starts at a replacement character.
/// </summary>
/// <param name="Replacement">The character that stands for a space (SentencePiece's <c>▁</c>).</param>
/// <param name="PrependScheme">Where a replacement character is put before text that does not start with one.</param>
/// <param name="Split">Whether the text is split into words, each starting with the replacement character.</param>
public sealed record MetaspaceSettings(char Replacement, MetaspacePrependScheme PrependScheme, bool Split);

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
