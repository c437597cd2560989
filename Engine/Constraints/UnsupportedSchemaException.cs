namespace Fathom.Engine.Constraints;

/// <summary>
/// A JSON Schema uses a keyword (or a keyword value) the constraint compiler does not support. The message names the
/// keyword and the JSON pointer of the schema object that holds it, so an API can answer 400 naming it.
/// </summary>
public sealed class UnsupportedSchemaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UnsupportedSchemaException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public UnsupportedSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public UnsupportedSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="keyword"/> at JSON pointer <paramref name="path"/>.</summary>
    public UnsupportedSchemaException(string keyword, string path, string reason)
        : base($"JSON Schema keyword '{keyword}' at '{(path.Length == 0 ? "#" : "#" + path)}' is not supported for constrained decoding: {reason}")
    {
        Keyword = keyword;
        Path = path;
    }

    /// <summary>The unsupported keyword, e.g. <c>patternProperties</c> (or <c>pattern</c> for an unsupported regex).</summary>
    public string Keyword { get; } = "";

    /// <summary>The JSON pointer (without the leading <c>#</c>) of the schema object holding the keyword; empty for the root.</summary>
    public string Path { get; } = "";
}
