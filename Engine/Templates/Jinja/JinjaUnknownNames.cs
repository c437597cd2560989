namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// jinja2's compile-time check of filter and test names: an unknown one fails the parse, except inside an
/// <c>if</c> (its conditions and bodies) or an inline <c>x if c else y</c>, where jinja2 lets it fail only when it
/// runs (templates guard optional filters that way). A loop, macro, call or set/filter block body starts a fresh
/// frame, where the check applies again, as in jinja2's code generator.
/// </summary>
internal static class JinjaUnknownNames
{
    public static void Check(IReadOnlyList<Node> nodes) => Check(nodes, soft: false);

    private static void Check(IReadOnlyList<Node> nodes, bool soft)
    {
        foreach (Node node in nodes)
            Check(node, soft);
    }

    private static void Check(Node node, bool soft)
    {
        switch (node)
        {
            case OutputNode o:
                Check(o.Value, soft);
                break;
            case IfNode i:
                foreach ((Expr condition, IReadOnlyList<Node> body) in i.Branches)
                {
                    Check(condition, soft: true);
                    Check(body, soft: true);
                }

                if (i.Else is { } otherwise)
                    Check(otherwise, soft: true);
                break;
            case ForNode f:
                Check(f.Iterable, soft);
                if (f.Filter is { } loopCondition)
                    Check(loopCondition, soft: false);
                Check(f.Body, soft: false);
                if (f.Else is { } loopElse)
                    Check(loopElse, soft: false);
                break;
            case SetNode s:
                Check(s.Value, soft);
                break;
            case SetBlockNode s:
                Check(s.Body, soft: false);
                foreach (FilterExpr applied in s.Filters)
                    Check(applied, soft);
                break;
            case MacroNode m:
                foreach ((_, Expr? value) in m.Parameters)
                {
                    if (value is not null)
                        Check(value, soft: false);
                }

                Check(m.Body, soft: false);
                break;
            case CallBlockNode c:
                Check(c.Call, soft);
                Check(c.Caller, soft: false);
                break;
            case FilterBlockNode f:
                foreach (FilterExpr applied in f.Filters)
                    Check(applied, soft: false);
                Check(f.Body, soft: false);
                break;
        }
    }

    private static void Check(Expr expr, bool soft)
    {
        switch (expr)
        {
            case FilterExpr f:
                if (!soft && !JinjaFilters.Exists(f.Name))
                    throw new TemplateSyntaxException($"No filter named '{f.Name}'", f.Line);
                if (f.Input is { } input)
                    Check(input, soft);
                CheckAll(f.Args, soft);
                CheckAll(f.Kwargs.Select(k => k.Value), soft);
                break;
            case TestExpr t:
                if (!soft && !JinjaTests.Exists(t.Name))
                    throw new TemplateSyntaxException($"No test named '{t.Name}'", t.Line);
                Check(t.Input, soft);
                CheckAll(t.Args, soft);
                break;
            case ConditionalExpr c:
                Check(c.Condition, soft: true);
                Check(c.Then, soft: true);
                if (c.Else is { } otherwise)
                    Check(otherwise, soft: true);
                break;
            case ListExpr l:
                CheckAll(l.Items, soft);
                break;
            case TupleExpr t:
                CheckAll(t.Items, soft);
                break;
            case DictExpr d:
                CheckAll(d.Items.SelectMany(p => new[] { p.Key, p.Value }), soft);
                break;
            case GetAttrExpr g:
                Check(g.Target, soft);
                break;
            case GetItemExpr g:
                Check(g.Target, soft);
                Check(g.Index, soft);
                break;
            case SliceExpr s:
                Check(s.Target, soft);
                CheckAll(new[] { s.Start, s.Stop, s.Step }.OfType<Expr>(), soft);
                break;
            case SpreadExpr s:
                Check(s.Value, soft);
                break;
            case CallExpr c:
                Check(c.Callee, soft);
                CheckAll(c.Args, soft);
                CheckAll(c.Kwargs.Select(k => k.Value), soft);
                break;
            case UnaryExpr u:
                Check(u.Operand, soft);
                break;
            case BinaryExpr b:
                Check(b.Left, soft);
                Check(b.Right, soft);
                break;
            case CompareExpr c:
                Check(c.First, soft);
                CheckAll(c.Rest.Select(r => r.Operand), soft);
                break;
        }
    }

    private static void CheckAll(IEnumerable<Expr> exprs, bool soft)
    {
        foreach (Expr e in exprs)
            Check(e, soft);
    }
}
