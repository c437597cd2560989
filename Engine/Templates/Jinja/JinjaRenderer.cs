using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>Executes a parsed template against variables, writing the output text.</summary>
internal sealed partial class JinjaRenderer
{
    private readonly JinjaBudget _budget;
    private int _depth; // macro calls in progress

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private JinjaRenderer(JinjaBudget budget)
    {
        _budget = budget;
    }

    /// <summary>Renders under the thread's current <see cref="JinjaBudget"/> (see <see cref="JinjaBudget.Enter"/>).</summary>
    public static string Render(IReadOnlyList<Node> template, JinjaScope globals)
    {
        var renderer = new JinjaRenderer(JinjaBudget.Current);
        var output = new StringBuilder();
        renderer.Execute(template, new JinjaScope(globals), output);
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Node> nodes, JinjaScope scope, StringBuilder output)
    {
        foreach (Node node in nodes)
        {
            Flow flow = Execute(node, scope, output);
            if (flow != Flow.Normal)
                return flow;
        }

        return Flow.Normal;
    }

    private Flow Execute(Node node, JinjaScope scope, StringBuilder output)
    {
        JinjaBudget.EnsureStack();
        switch (node)
        {
            case TextNode text:
                Write(output, text.Text);
                return Flow.Normal;
            case OutputNode o:
                Write(output, JinjaOps.ToStr(Evaluate(o.Value, scope)));
                return Flow.Normal;
            case IfNode ifNode:
                foreach ((Expr condition, IReadOnlyList<Node> body) in ifNode.Branches)
                {
                    if (JinjaOps.IsTruthy(Evaluate(condition, scope)))
                        return Execute(body, scope, output);
                }

                return ifNode.Else is null ? Flow.Normal : Execute(ifNode.Else, scope, output);
            case ForNode forNode:
                ExecuteFor(forNode, scope, output);
                return Flow.Normal;
            case SetNode set:
                Assign(set.Targets, set.Attribute, Evaluate(set.Value, scope), scope, set.Line);
                return Flow.Normal;
            case SetBlockNode setBlock:
                var captured = new StringBuilder();
                Execute(setBlock.Body, scope, captured);
                object? value = ApplyFilters(setBlock.Filters, captured.ToString(), scope);
                Assign([setBlock.Target], setBlock.Attribute, value, scope, setBlock.Line);
                return Flow.Normal;
            case MacroNode macro:
                scope.Set(macro.Name, MakeMacro(macro, scope));
                return Flow.Normal;
            case CallBlockNode callBlock:
                Write(output, JinjaOps.ToStr(EvaluateCall(callBlock.Call, scope, MakeMacro(callBlock.Caller, scope))));
                return Flow.Normal;
            case FilterBlockNode filterBlock:
                var body2 = new StringBuilder();
                Flow flow = Execute(filterBlock.Body, scope, body2);
                Write(output, JinjaOps.ToStr(ApplyFilters(filterBlock.Filters, body2.ToString(), scope)));
                return flow;
            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            default:
                throw new ChatTemplateException($"Unsupported node {node.GetType().Name}");
        }
    }

    // Every builder (the output, and the bodies of set, filter and macro blocks that feed it) is held to the output limit.
    private void Write(StringBuilder output, string text)
    {
        _budget.Output((long)output.Length + text.Length);
        output.Append(text);
    }

    private void ExecuteFor(ForNode node, JinjaScope scope, StringBuilder output)
    {
        object? iterable = JinjaMarkup.Unwrap(Evaluate(node.Iterable, scope));
        List<object?> items = JinjaOps.Iterate(iterable);
        if (node.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (object? item in items)
            {
                _budget.Step();
                var filterScope = new JinjaScope(scope);
                Bind(node.Targets, item, filterScope, node.Line);
                if (JinjaOps.IsTruthy(Evaluate(node.Filter, filterScope)))
                    kept.Add(item);
            }

            items = kept;
        }
        else if (ReferenceEquals(items, iterable))
        {
            // The body may not mutate the list, but a copy keeps loop.length honest if it ever did.
            items = [.. items];
        }

        if (items.Count == 0)
        {
            if (node.Else is not null)
                Execute(node.Else, scope, output);
            return;
        }

        int depth0 = scope.TryGet("loop", out object? outer) && outer is JinjaLoop outerLoop ? outerLoop.Depth0 + 1 : 0;
        var loop = new JinjaLoop(items, depth0);
        for (int i = 0; i < items.Count; i++)
        {
            _budget.Step();
            loop.Index0 = i;
            var iterationScope = new JinjaScope(scope);
            iterationScope.Set("loop", loop);
            Bind(node.Targets, items[i], iterationScope, node.Line);
            if (Execute(node.Body, iterationScope, output) == Flow.Break)
                break;
        }
    }

    private static void Bind(IReadOnlyList<string> targets, object? value, JinjaScope scope, int line)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], value);
            return;
        }

        List<object?> parts = JinjaOps.Iterate(value);
        if (parts.Count != targets.Count)
        {
            throw new ChatTemplateException(parts.Count > targets.Count
                ? $"too many values to unpack (expected {targets.Count}) at template line {line}"
                : $"not enough values to unpack (expected {targets.Count}, got {parts.Count}) at template line {line}");
        }

        for (int i = 0; i < targets.Count; i++)
            scope.Set(targets[i], parts[i]);
    }

    private static void Assign(IReadOnlyList<string> targets, string? attribute, object? value, JinjaScope scope, int line)
    {
        if (attribute is null)
        {
            Bind(targets, value, scope, line);
            return;
        }

        if (!scope.TryGet(targets[0], out object? target) || target is not JinjaNamespace ns)
            throw new ChatTemplateException($"Can only assign attributes of a namespace object, '{targets[0]}' is not one (template line {line})");
        ns.Attributes[attribute] = value;
    }

    private object? ApplyFilters(IReadOnlyList<FilterExpr> filters, object? value, JinjaScope scope)
    {
        foreach (FilterExpr filter in filters)
            value = JinjaFilters.Apply(filter.Name, value, EvaluateArguments(filter.Args, filter.Kwargs, scope));
        return value;
    }

    // jinja2's Macro.__call__: parameters by position then by name, then caller, kwargs and varargs for macros that read them.
    private JinjaCallable MakeMacro(MacroNode macro, JinjaScope definingScope) => new(macro.Name, (args, kwargs) =>
    {
        _budget.Step();
        try
        {
            _budget.Depth(++_depth);
            var callScope = new JinjaScope(definingScope);
            var extra = new Dictionary<string, object?>(kwargs, StringComparer.Ordinal);
            for (int i = 0; i < macro.Parameters.Count; i++)
            {
                (string name, Expr? defaultValue) = macro.Parameters[i];
                object? value;
                if (i < args.Count)
                {
                    if (extra.ContainsKey(name))
                        throw new ChatTemplateException($"macro '{macro.Name}' got multiple values for argument '{name}'");
                    value = args[i];
                }
                else if (extra.Remove(name, out object? named))
                {
                    value = named;
                }
                else if (defaultValue is not null)
                {
                    value = Evaluate(defaultValue, callScope);
                }
                else
                {
                    value = new JinjaUndefined($"parameter '{name}' was not provided");
                }

                callScope.Set(name, value);
            }

            if (macro.CatchCaller)
                callScope.Set("caller", extra.Remove("caller", out object? caller) && caller is not null ? caller : new JinjaUndefined("No caller defined"));
            if (macro.CatchKwargs)
            {
                callScope.Set("kwargs", extra);
            }
            else if (extra.Count > 0)
            {
                throw new ChatTemplateException(extra.ContainsKey("caller")
                    ? $"macro '{macro.Name}' was invoked with two values for the special caller argument. This is most likely a bug."
                    : $"macro '{macro.Name}' takes no keyword argument '{extra.Keys.First()}'");
            }

            if (macro.CatchVarargs)
                callScope.Set("varargs", new JinjaTuple(args.Skip(macro.Parameters.Count)));
            else if (args.Count > macro.Parameters.Count)
                throw new ChatTemplateException($"macro '{macro.Name}' takes not more than {macro.Parameters.Count} argument(s)");

            var output = new StringBuilder();
            Execute(macro.Body, callScope, output);
            return output.ToString();
        }
        finally
        {
            _depth--;
        }
    });
}
