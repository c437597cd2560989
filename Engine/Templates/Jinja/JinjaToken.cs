namespace Fathom.Engine.Templates.Jinja;

internal enum JinjaTokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    RawText,
    EndOfFile,
}

/// <summary>One lexical token; <see cref="Value"/> holds text, a name, an operator, or a decoded literal.</summary>
internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Line, object? Literal = null)
{
    public bool Is(JinjaTokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Value == name;

    public bool IsOperator(string op) => Kind == JinjaTokenKind.Operator && Value == op;

    public override string ToString() => Kind switch
    {
        JinjaTokenKind.EndOfFile => "end of template",
        JinjaTokenKind.VariableEnd => "'}}'",
        JinjaTokenKind.BlockEnd => "'%}'",
        _ => $"'{Value}'",
    };
}
