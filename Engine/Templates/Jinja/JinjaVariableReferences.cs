namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// Whether a parsed template reads a variable by name anywhere (e.g. <c>tools</c>): how Fathom tells that a model's
/// own template can render tool definitions without rendering it.
/// </summary>
internal static class JinjaVariableReferences
{
    public static bool Reads(IReadOnlyList<Node> nodes, string name) => nodes.Any(n => Reads(n, name));

    private static bool Reads(Node node, string name) => node switch
    {
        OutputNode o => Reads(o.Value, name),
        IfNode i => i.Branches.Any(b => Reads(b.Condition, name) || Reads(b.Body, name)) || (i.Else is { } e && Reads(e, name)),
        ForNode f => Reads(f.Iterable, name) || (f.Filter is { } filter && Reads(filter, name))
            || Reads(f.Body, name) || (f.Else is { } e && Reads(e, name)),
        SetNode s => Reads(s.Value, name),
        SetBlockNode s => Reads(s.Body, name) || s.Filters.Any(f => Reads(f, name)),
        MacroNode m => m.Parameters.Any(p => p.Default is { } d && Reads(d, name)) || Reads(m.Body, name),
        CallBlockNode c => Reads(c.Call, name) || Reads(c.Caller, name),
        FilterBlockNode f => f.Filters.Any(x => Reads(x, name)) || Reads(f.Body, name),
        _ => false,
    };

    private static bool Reads(Expr expr, string name) => expr switch
    {
        NameExpr n => n.Name == name,
        ListExpr l => l.Items.Any(x => Reads(x, name)),
        TupleExpr t => t.Items.Any(x => Reads(x, name)),
        DictExpr d => d.Items.Any(x => Reads(x.Key, name) || Reads(x.Value, name)),
        GetAttrExpr g => Reads(g.Target, name),
        GetItemExpr g => Reads(g.Target, name) || Reads(g.Index, name),
        SliceExpr s => Reads(s.Target, name) || (s.Start is { } a && Reads(a, name)) || (s.Stop is { } b && Reads(b, name)) || (s.Step is { } c && Reads(c, name)),
        SpreadExpr s => Reads(s.Value, name),
        CallExpr c => Reads(c.Callee, name) || c.Args.Any(x => Reads(x, name)) || c.Kwargs.Any(x => Reads(x.Value, name)),
        FilterExpr f => (f.Input is { } i && Reads(i, name)) || f.Args.Any(x => Reads(x, name)) || f.Kwargs.Any(x => Reads(x.Value, name)),
        TestExpr t => Reads(t.Input, name) || t.Args.Any(x => Reads(x, name)),
        UnaryExpr u => Reads(u.Operand, name),
        BinaryExpr b => Reads(b.Left, name) || Reads(b.Right, name),
        CompareExpr c => Reads(c.First, name) || c.Rest.Any(x => Reads(x.Operand, name)),
        ConditionalExpr c => Reads(c.Condition, name) || Reads(c.Then, name) || (c.Else is { } e && Reads(e, name)),
        _ => false,
    };
}
