namespace Fathom.Engine.Templates.Jinja;

// The parsed template: statements (Node) and expressions (Expr). Each carries its template line for errors.

internal abstract record Node(int Line);

internal sealed record TextNode(string Text, int Line) : Node(Line);

internal sealed record OutputNode(Expr Value, int Line) : Node(Line);

internal sealed record IfNode(IReadOnlyList<(Expr Condition, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node>? Else, int Line)
    : Node(Line);

internal sealed record ForNode(
    IReadOnlyList<string> Targets,
    Expr Iterable,
    Expr? Filter,
    IReadOnlyList<Node> Body,
    IReadOnlyList<Node>? Else,
    int Line) : Node(Line);

/// <summary><c>{% set name = v %}</c>, <c>{% set a, b = v %}</c> or <c>{% set ns.attr = v %}</c> (<see cref="Attribute"/> set).</summary>
internal sealed record SetNode(IReadOnlyList<string> Targets, string? Attribute, Expr Value, int Line) : Node(Line);

/// <summary><c>{% set name %}…{% endset %}</c>: the rendered body, optionally through filters.</summary>
internal sealed record SetBlockNode(string Target, string? Attribute, IReadOnlyList<Node> Body, IReadOnlyList<FilterExpr> Filters, int Line)
    : Node(Line);

/// <summary>
/// <c>{% macro name(params) %}</c>. As in jinja2, a macro whose body reads <c>varargs</c>, <c>kwargs</c> or
/// <c>caller</c> accepts extra positional arguments, extra keyword arguments or a <c>caller</c> (see <see cref="CallBlockNode"/>).
/// </summary>
internal sealed record MacroNode(string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Node> Body, int Line)
    : Node(Line)
{
    public bool CatchVarargs { get; } = JinjaVariableReferences.Reads(Body, "varargs");

    public bool CatchKwargs { get; } = JinjaVariableReferences.Reads(Body, "kwargs");

    public bool CatchCaller { get; } = JinjaVariableReferences.Reads(Body, "caller");
}

/// <summary>
/// <c>{% call(params) macro(args) %}body{% endcall %}</c>: calls <see cref="Call"/> with <c>caller</c> set to a macro
/// (<see cref="Caller"/>, named <c>caller</c>) that renders the body, and outputs the result.
/// </summary>
internal sealed record CallBlockNode(CallExpr Call, MacroNode Caller, int Line) : Node(Line);

internal sealed record FilterBlockNode(IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Node> Body, int Line) : Node(Line);

internal sealed record BreakNode(int Line) : Node(Line);

internal sealed record ContinueNode(int Line) : Node(Line);

internal abstract record Expr(int Line);

internal sealed record LiteralExpr(object? Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

internal sealed record TupleExpr(IReadOnlyList<Expr> Items, int Line) : Expr(Line);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

internal sealed record GetAttrExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record GetItemExpr(Expr Target, Expr Index, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

/// <summary><c>*value</c> (<see cref="Keywords"/> false) or <c>**value</c> in a call's arguments: spread into positional or keyword arguments.</summary>
internal sealed record SpreadExpr(Expr Value, bool Keywords, int Line) : Expr(Line);

internal sealed record CallExpr(Expr Callee, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Line)
    : Expr(Line);

/// <summary><c>input | name(args)</c>; <see cref="Input"/> is null inside <c>{% filter %}</c> blocks and set blocks.</summary>
internal sealed record FilterExpr(Expr? Input, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Line)
    : Expr(Line);

internal sealed record TestExpr(Expr Input, string Name, IReadOnlyList<Expr> Args, bool Negated, int Line) : Expr(Line);

internal sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

/// <summary>A comparison chain <c>a &lt; b &lt;= c</c> (Python semantics: each pair, short-circuit).</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Op, Expr Operand)> Rest, int Line) : Expr(Line);

internal sealed record ConditionalExpr(Expr Condition, Expr Then, Expr? Else, int Line) : Expr(Line);
