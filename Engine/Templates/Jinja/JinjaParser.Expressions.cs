namespace Fathom.Engine.Templates.Jinja;

/// <summary>Expressions, with jinja2's precedence: conditional, or, and, not, comparisons, + -, ~, * / // %, **,
/// unary, then postfix (attribute, subscript, call) and filters / tests.</summary>
internal sealed partial class JinjaParser
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    /// <summary>An expression, or a tuple when commas separate several (<c>{% set a = 1, 2 %}</c>).</summary>
    private Expr ParseTuple(bool allowCondition)
    {
        int line = Current.Line;
        Expr first = ParseExpression(allowCondition);
        if (!Current.IsOperator(","))
            return first;
        var items = new List<Expr> { first };
        while (Current.IsOperator(","))
        {
            _index++;
            if (IsTupleEnd())
                break;
            items.Add(ParseExpression(allowCondition));
        }

        return new TupleExpr(items, line);
    }

    private bool IsTupleEnd() => Current.Kind is JinjaTokenKind.BlockEnd or JinjaTokenKind.VariableEnd
        || Current.IsOperator(")") || Current.IsName("in") || Current.IsName("if");

    private Expr ParseExpression(bool allowCondition)
    {
        Enter();
        int entered = 1;
        Expr expr = ParseOr();
        if (!allowCondition)
        {
            _depth -= entered;
            return expr;
        }

        while (Current.IsName("if"))
        {
            Enter();
            entered++;
            int line = Current.Line;
            _index++;
            Expr condition = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else"))
            {
                _index++;
                otherwise = ParseExpression(allowCondition: true);
            }

            expr = new ConditionalExpr(condition, expr, otherwise, line);
        }

        _depth -= entered;
        return expr;
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        int entered = 0;
        while (Current.IsName("or"))
        {
            Enter();
            entered++;
            int line = Current.Line;
            _index++;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }

        _depth -= entered;
        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        int entered = 0;
        while (Current.IsName("and"))
        {
            Enter();
            entered++;
            int line = Current.Line;
            _index++;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }

        _depth -= entered;
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            int line = Current.Line;
            _index++;
            Enter();
            var not = new UnaryExpr("not", ParseNot(), line);
            _depth--;
            return not;
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        int line = Current.Line;
        Expr first = ParseMath1();
        List<(string, Expr)>? rest = null;
        while (true)
        {
            string op;
            if (Current.Kind == JinjaTokenKind.Operator && CompareOperators.Contains(Current.Value))
            {
                op = Current.Value;
                _index++;
            }
            else if (Current.IsName("in"))
            {
                op = "in";
                _index++;
            }
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                op = "not in";
                _index += 2;
            }
            else
            {
                break;
            }

            (rest ??= []).Add((op, ParseMath1()));
        }

        return rest is null ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseMath1()
    {
        Expr left = ParseConcat();
        int entered = 0;
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            Enter();
            entered++;
            JinjaToken op = Current;
            _index++;
            left = new BinaryExpr(op.Value, left, ParseConcat(), op.Line);
        }

        _depth -= entered;
        return left;
    }

    private Expr ParseConcat()
    {
        Expr left = ParseMath2();
        int entered = 0;
        while (Current.IsOperator("~"))
        {
            Enter();
            entered++;
            int line = Current.Line;
            _index++;
            left = new BinaryExpr("~", left, ParseMath2(), line);
        }

        _depth -= entered;
        return left;
    }

    private Expr ParseMath2()
    {
        Expr left = ParsePow();
        int entered = 0;
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            Enter();
            entered++;
            JinjaToken op = Current;
            _index++;
            left = new BinaryExpr(op.Value, left, ParsePow(), op.Line);
        }

        _depth -= entered;
        return left;
    }

    private Expr ParsePow()
    {
        Expr left = ParseUnary(withFilter: true);
        int entered = 0;
        while (Current.IsOperator("**"))
        {
            Enter();
            entered++;
            int line = Current.Line;
            _index++;
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), line);
        }

        _depth -= entered;
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        JinjaToken token = Current;
        Expr node;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            _index++;
            Enter();
            node = new UnaryExpr(token.Value, ParseUnary(withFilter: false), token.Line);
            _depth--;
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        return withFilter ? ParseFilterTail(node) : node;
    }

    private Expr ParsePrimary()
    {
        JinjaToken token = Current;
        switch (token.Kind)
        {
            case JinjaTokenKind.Name:
                _index++;
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, token.Line),
                    "false" or "False" => new LiteralExpr(false, token.Line),
                    "none" or "None" => new LiteralExpr(null, token.Line),
                    _ => new NameExpr(token.Value, token.Line),
                };
            case JinjaTokenKind.String:
                _index++;
                string text = token.Value;
                while (Current.Kind == JinjaTokenKind.String)
                {
                    text += Current.Value;
                    _index++;
                }

                return new LiteralExpr(text, token.Line);
            case JinjaTokenKind.Integer:
            case JinjaTokenKind.Float:
                _index++;
                return new LiteralExpr(token.Literal, token.Line);
            case JinjaTokenKind.Operator when token.Value == "(":
                _index++;
                if (Current.IsOperator(")"))
                {
                    _index++;
                    return new TupleExpr([], token.Line);
                }

                Expr inner = ParseTuple(allowCondition: true);
                ExpectOperator(")");
                return inner;
            case JinjaTokenKind.Operator when token.Value == "[":
                _index++;
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0)
                        ExpectOperator(",");
                    if (Current.IsOperator("]"))
                        break;
                    items.Add(ParseExpression(allowCondition: true));
                }

                _index++;
                return new ListExpr(items, token.Line);
            case JinjaTokenKind.Operator when token.Value == "{":
                _index++;
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (pairs.Count > 0)
                        ExpectOperator(",");
                    if (Current.IsOperator("}"))
                        break;
                    Expr key = ParseExpression(allowCondition: true);
                    ExpectOperator(":");
                    pairs.Add((key, ParseExpression(allowCondition: true)));
                }

                _index++;
                return new DictExpr(pairs, token.Line);
            default:
                throw new TemplateSyntaxException($"Unexpected {token}", token.Line);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        int entered = 0;
        while (true)
        {
            Enter();
            entered++;
            JinjaToken token = Current;
            if (token.IsOperator("."))
            {
                _index++;
                JinjaToken name = Current;
                _index++;
                node = name.Kind switch
                {
                    JinjaTokenKind.Name => new GetAttrExpr(node, name.Value, token.Line),
                    JinjaTokenKind.Integer => new GetItemExpr(node, new LiteralExpr(name.Literal, token.Line), token.Line),
                    _ => throw new TemplateSyntaxException($"Expected an attribute name, got {name}", name.Line),
                };
            }
            else if (token.IsOperator("["))
            {
                _index++;
                node = ParseSubscript(node, token.Line);
            }
            else if (token.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                _depth -= entered;
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr target, int line)
    {
        Expr? start = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression(allowCondition: true);
            if (Current.IsOperator("]"))
            {
                _index++;
                return new GetItemExpr(target, start, line);
            }
        }

        ExpectOperator(":");
        Expr? stop = null;
        Expr? step = null;
        if (!Current.IsOperator("]") && !Current.IsOperator(":"))
            stop = ParseExpression(allowCondition: true);
        if (Current.IsOperator(":"))
        {
            _index++;
            if (!Current.IsOperator("]"))
                step = ParseExpression(allowCondition: true);
        }

        ExpectOperator("]");
        return new SliceExpr(target, start, stop, step, line);
    }

    private CallExpr ParseCall(Expr callee)
    {
        int line = Current.Line;
        (List<Expr> args, List<(string, Expr)> kwargs) = ParseArguments();
        return new CallExpr(callee, args, kwargs, line);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        ExpectOperator("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (args.Count + kwargs.Count > 0)
                ExpectOperator(",");
            if (Current.IsOperator(")"))
                break;
            if (Current.IsOperator("*") || Current.IsOperator("**"))
            {
                // jinja2's dyn_args/dyn_kwargs: f(a, *rest, **options).
                int line = Current.Line;
                bool keywords = Current.Value == "**";
                _index++;
                args.Add(new SpreadExpr(ParseExpression(allowCondition: true), keywords, line));
            }
            else if (Current.Kind == JinjaTokenKind.Name && Peek().IsOperator("="))
            {
                string name = Current.Value;
                _index += 2;
                kwargs.Add((name, ParseExpression(allowCondition: true)));
            }
            else
            {
                if (kwargs.Count > 0 || args.Any(a => a is SpreadExpr))
                    throw new TemplateSyntaxException("Positional argument after keyword argument", Current.Line);
                args.Add(ParseExpression(allowCondition: true));
            }
        }

        _index++;
        return (args, kwargs);
    }

    private Expr ParseFilterTail(Expr node)
    {
        int entered = 0;
        while (true)
        {
            Enter();
            entered++;
            if (Current.IsOperator("|"))
            {
                _index++;
                node = ParseFilter(node);
            }
            else if (Current.IsName("is"))
            {
                _index++;
                node = ParseTest(node);
            }
            else if (Current.IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                _depth -= entered;
                return node;
            }
        }
    }

    private FilterExpr ParseFilter(Expr? input)
    {
        JinjaToken name = Current;
        string filterName = ExpectNameToken();
        List<Expr> args = [];
        List<(string, Expr)> kwargs = [];
        if (Current.IsOperator("("))
            (args, kwargs) = ParseArguments();
        return new FilterExpr(input, filterName, args, kwargs, name.Line);
    }

    private TestExpr ParseTest(Expr input)
    {
        bool negated = false;
        if (Current.IsName("not"))
        {
            negated = true;
            _index++;
        }

        JinjaToken name = Current;
        string testName = ExpectNameToken();
        List<Expr> args = [];
        JinjaToken next = Current;
        if (next.IsOperator("("))
        {
            (args, List<(string, Expr)> kwargs) = ParseArguments();
            if (kwargs.Count > 0)
                throw new TemplateSyntaxException("Tests take no keyword arguments here", name.Line);
        }
        else if ((next.Kind is JinjaTokenKind.Name or JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                  || next.IsOperator("[") || next.IsOperator("{"))
                 && !next.IsName("else") && !next.IsName("or") && !next.IsName("and"))
        {
            if (next.IsName("is"))
                throw new TemplateSyntaxException("You cannot chain multiple tests with is", next.Line);
            args = [ParsePostfix(ParsePrimary())];
        }

        return new TestExpr(input, testName, args, negated, name.Line);
    }
}
