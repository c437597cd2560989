namespace Fathom.Engine.Templates.Jinja;

/// <summary>Expression evaluation with Python/jinja2 semantics.</summary>
internal sealed partial class JinjaRenderer
{
    private object? Evaluate(Expr expr, JinjaScope scope)
    {
        JinjaBudget.EnsureStack();
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case NameExpr name:
                return scope.TryGet(name.Name, out object? value) ? value : JinjaUndefined.ForName(name.Name);
            case GetAttrExpr attr:
                return JinjaMethods.GetAttribute(EvaluatePlain(attr.Target, scope), attr.Name);
            case GetItemExpr item:
                return JinjaMethods.GetItem(EvaluatePlain(item.Target, scope), EvaluatePlain(item.Index, scope));
            case SliceExpr slice:
                return JinjaMethods.Slice(EvaluatePlain(slice.Target, scope), EvaluateOptional(slice.Start, scope),
                    EvaluateOptional(slice.Stop, scope), EvaluateOptional(slice.Step, scope));
            case BinaryExpr binary:
                return EvaluateBinary(binary, scope);
            case UnaryExpr unary:
                return EvaluateUnary(unary, scope);
            case CompareExpr compare:
                return EvaluateCompare(compare, scope);
            case ConditionalExpr conditional:
                if (JinjaOps.IsTruthy(Evaluate(conditional.Condition, scope)))
                    return Evaluate(conditional.Then, scope);
                return conditional.Else is null
                    ? new JinjaUndefined("the inline if-expression on line " + conditional.Line + " evaluated to false and no else section was defined.")
                    : Evaluate(conditional.Else, scope);
            case FilterExpr filter:
                object? input = filter.Input is null ? null : Evaluate(filter.Input, scope);
                return JinjaFilters.Apply(filter.Name, input, EvaluateArguments(filter.Args, filter.Kwargs, scope));
            case TestExpr test:
                object? subject = EvaluatePlain(test.Input, scope);
                var testArgs = new List<object?>(test.Args.Count);
                foreach (Expr arg in test.Args)
                    testArgs.Add(EvaluatePlain(arg, scope));
                return JinjaTests.Apply(test.Name, subject, testArgs) != test.Negated;
            case CallExpr call:
                return EvaluateCall(call, scope);
            case ListExpr list:
            {
                var items = new List<object?>(list.Items.Count);
                foreach (Expr e in list.Items)
                    items.Add(EvaluatePlain(e, scope));
                return items;
            }

            case TupleExpr tuple:
            {
                var items = new List<object?>(tuple.Items.Count);
                foreach (Expr e in tuple.Items)
                    items.Add(EvaluatePlain(e, scope));
                return new JinjaTuple(items);
            }

            case DictExpr dict:
                var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach ((Expr k, Expr v) in dict.Items)
                {
                    object? key = EvaluatePlain(k, scope);
                    result[key as string ?? throw new ChatTemplateException("Only string keys are supported in dict literals")] = EvaluatePlain(v, scope);
                }

                return result;
            default:
                throw new ChatTemplateException($"Unsupported expression {expr.GetType().Name}");
        }
    }

    private object? EvaluateOptional(Expr? expr, JinjaScope scope) => expr is null ? null : EvaluatePlain(expr, scope);

    /// <summary>A value where Markup acts as its plain text (everything except <c>+</c> and output).</summary>
    private object? EvaluatePlain(Expr expr, JinjaScope scope) => JinjaMarkup.Unwrap(Evaluate(expr, scope));

    private object? EvaluateBinary(BinaryExpr binary, JinjaScope scope)
    {
        object? left = Evaluate(binary.Left, scope);
        switch (binary.Op)
        {
            case "and":
                return JinjaOps.IsTruthy(left) ? Evaluate(binary.Right, scope) : left;
            case "or":
                return JinjaOps.IsTruthy(left) ? left : Evaluate(binary.Right, scope);
            case "~":
                string a = JinjaOps.ToStr(left);
                string b = JinjaOps.ToStr(Evaluate(binary.Right, scope));
                _budget.String((long)a.Length + b.Length);
                return string.Concat(a, b);
            default:
                return JinjaOps.Binary(binary.Op, left, Evaluate(binary.Right, scope));
        }
    }

    private object? EvaluateUnary(UnaryExpr unary, JinjaScope scope)
    {
        object? operand = EvaluatePlain(unary.Operand, scope);
        return unary.Op switch
        {
            "not" => !JinjaOps.IsTruthy(operand),
            "-" => operand switch
            {
                double d => (object)(-d),
                long or bool => -JinjaOps.ToLong(operand),
                JinjaUndefined u => throw u.Error(),
                _ => throw new ChatTemplateException($"bad operand type for unary -: '{JinjaOps.TypeName(operand)}'"),
            },
            _ => operand is long or double or bool ? operand is bool ? JinjaOps.ToLong(operand) : operand
                : throw new ChatTemplateException($"bad operand type for unary +: '{JinjaOps.TypeName(operand)}'"),
        };
    }

    private bool EvaluateCompare(CompareExpr compare, JinjaScope scope)
    {
        object? left = EvaluatePlain(compare.First, scope);
        foreach ((string op, Expr operand) in compare.Rest)
        {
            object? right = EvaluatePlain(operand, scope);
            bool ok = op switch
            {
                "==" => JinjaOps.PyEquals(left, right),
                "!=" => !JinjaOps.PyEquals(left, right),
                "<" => JinjaOps.Compare(left, right, op) < 0,
                "<=" => JinjaOps.Compare(left, right, op) <= 0,
                ">" => JinjaOps.Compare(left, right, op) > 0,
                ">=" => JinjaOps.Compare(left, right, op) >= 0,
                "in" => JinjaOps.Contains(right, left),
                _ => !JinjaOps.Contains(right, left),
            };
            if (!ok)
                return false;
            left = right;
        }

        return true;
    }

    private object? EvaluateCall(CallExpr call, JinjaScope scope, JinjaCallable? caller = null)
    {
        object? callee = Evaluate(call.Callee, scope);
        JinjaArguments args = EvaluateArguments(call.Args, call.Kwargs, scope);
        if (caller is not null)
            args = args with { Keywords = new(args.Keywords, StringComparer.Ordinal) { ["caller"] = caller } };
        _budget.Step();
        return callee switch
        {
            JinjaCallable callable => callable.Invoke(args.Positional, args.Keywords),
            JinjaUndefined undefined => throw undefined.Error(),
            _ => throw new ChatTemplateException($"'{JinjaOps.TypeName(callee)}' object is not callable"),
        };
    }

    private JinjaArguments EvaluateArguments(IReadOnlyList<Expr> args, IReadOnlyList<(string Name, Expr Value)> kwargs, JinjaScope scope)
    {
        if (args.Count == 0 && kwargs.Count == 0)
            return new JinjaArguments([], []);
        var positional = new List<object?>(args.Count);
        var keywords = new Dictionary<string, object?>(StringComparer.Ordinal);
        List<SpreadExpr>? keywordSpreads = null;
        foreach (Expr arg in args)
        {
            if (arg is SpreadExpr { Keywords: true } spread)
                (keywordSpreads ??= []).Add(spread);
            else if (arg is SpreadExpr items)
                positional.AddRange(JinjaOps.Iterate(EvaluatePlain(items.Value, scope)));
            else
                positional.Add(EvaluatePlain(arg, scope));
        }

        foreach ((string name, Expr value) in kwargs)
            keywords[name] = EvaluatePlain(value, scope);
        foreach (SpreadExpr spread in keywordSpreads ?? [])
        {
            if (EvaluatePlain(spread.Value, scope) is not Dictionary<string, object?> dict)
                throw new ChatTemplateException($"argument after ** must be a mapping (template line {spread.Line})");
            foreach (KeyValuePair<string, object?> pair in dict)
            {
                if (!keywords.TryAdd(pair.Key, pair.Value))
                    throw new ChatTemplateException($"got multiple values for keyword argument '{pair.Key}'");
            }
        }

        return new JinjaArguments(positional, keywords);
    }
}
