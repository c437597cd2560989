namespace Fathom.Engine.Tokenization;

/// <summary>
/// What a token is, as a set of flags: derived from <see cref="TokenType"/> plus the adjustments llama.cpp makes
/// when it loads a vocabulary (end-of-generation texts such as <c>&lt;|eot_id|&gt;</c> become control tokens).
/// </summary>
[Flags]
public enum TokenAttributes
{
    /// <summary>No attribute.</summary>
    None = 0,

    /// <summary>The unknown token.</summary>
    Unknown = 1 << 0,

    /// <summary>A reserved, unused slot.</summary>
    Unused = 1 << 1,

    /// <summary>An ordinary piece of text.</summary>
    Normal = 1 << 2,

    /// <summary>A control token.</summary>
    Control = 1 << 3,

    /// <summary>A user-defined token, split out of raw text even when special tokens are not parsed.</summary>
    UserDefined = 1 << 4,

    /// <summary>A byte-fallback token.</summary>
    Byte = 1 << 5,

    /// <summary>Hugging Face <c>normalized</c>: the added token is matched in normalized text.</summary>
    Normalized = 1 << 6,

    /// <summary>Hugging Face / llama.cpp <c>lstrip</c>: whitespace before the added token is part of it.</summary>
    StripLeft = 1 << 7,

    /// <summary>Hugging Face / llama.cpp <c>rstrip</c>: whitespace after the added token is part of it.</summary>
    StripRight = 1 << 8,

    /// <summary>Hugging Face <c>single_word</c>: the added token is matched only where it is not inside a word.</summary>
    SingleWord = 1 << 9,
}
