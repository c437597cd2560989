namespace Fathom.Engine.Tokenization;

/// <summary>The per-token type stored in GGUF's <c>tokenizer.ggml.token_type</c> array (SentencePiece's piece types).</summary>
public enum TokenType
{
    /// <summary>No type recorded.</summary>
    Undefined = 0,

    /// <summary>An ordinary piece of text.</summary>
    Normal = 1,

    /// <summary>The unknown token (e.g. <c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,

    /// <summary>A control token such as BOS or EOS; rendered only on request.</summary>
    Control = 3,

    /// <summary>A token the model's authors added; matched in raw text before pre-tokenization.</summary>
    UserDefined = 4,

    /// <summary>A reserved, unused slot.</summary>
    Unused = 5,

    /// <summary>A byte-fallback token <c>&lt;0xNN&gt;</c>.</summary>
    Byte = 6,
}
