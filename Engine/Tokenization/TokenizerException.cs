namespace Fathom.Engine.Tokenization;

/// <summary>A vocabulary cannot be turned into a tokenizer, or a token id is outside it.</summary>
public sealed class TokenizerException : Exception
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public TokenizerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public TokenizerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public TokenizerException()
        : base("invalid tokenizer vocabulary")
    {
    }
}
