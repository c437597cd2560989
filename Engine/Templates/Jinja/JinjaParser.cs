namespace Fathom.Engine.Templates.Jinja;

/// <summary>Recursive-descent parser for the statement level of a template (tags and text).</summary>
internal sealed partial class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private readonly int _maxDepth;
    private int _index;
    private int _depth; // nesting of the tree being built (blocks, expressions, operator chains)

    private JinjaParser(List<JinjaToken> tokens, int maxDepth)
    {
        _tokens = tokens;
        _maxDepth = maxDepth;
    }

    private JinjaToken Current => _tokens[_index];

    private JinjaToken Peek(int ahead = 1) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];

    /// <summary>Parses a template whose blocks and expressions nest at most <paramref name="maxDepth"/> deep.</summary>
    public static IReadOnlyList<Node> Parse(string source, int maxDepth)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source), maxDepth);
        List<Node> body = parser.ParseBody([], out string? end);
        if (end is not null)
            throw new TemplateSyntaxException($"Unexpected '{end}'", parser.Current.Line);
        JinjaUnknownNames.Check(body);
        return body;
    }

    /// <summary>Parses nodes until one of <paramref name="endTags"/> opens a block tag (its name is consumed) or the end.</summary>
    private List<Node> ParseBody(string[] endTags, out string? endTag)
    {
        Enter();
        var nodes = new List<Node>();
        while (true)
        {
            JinjaToken token = Current;
            switch (token.Kind)
            {
                case JinjaTokenKind.EndOfFile:
                    if (endTags.Length > 0)
                        throw new TemplateSyntaxException($"Unexpected end of template, expected '{string.Join("' or '", endTags)}'", token.Line);
                    endTag = null;
                    _depth--;
                    return nodes;
                case JinjaTokenKind.Text:
                case JinjaTokenKind.RawText:
                    _index++;
                    nodes.Add(new TextNode(token.Value, token.Line));
                    break;
                case JinjaTokenKind.VariableBegin:
                    _index++;
                    Expr value = ParseTuple(allowCondition: true);
                    Expect(JinjaTokenKind.VariableEnd);
                    nodes.Add(new OutputNode(value, token.Line));
                    break;
                case JinjaTokenKind.BlockBegin:
                    _index++;
                    JinjaToken keyword = Current;
                    if (keyword.Kind != JinjaTokenKind.Name)
                        throw new TemplateSyntaxException($"Expected a tag name, got {keyword}", keyword.Line);
                    if (Array.IndexOf(endTags, keyword.Value) >= 0)
                    {
                        _index++;
                        endTag = keyword.Value;
                        _depth--;
                        return nodes;
                    }

                    Node? node = ParseStatement(keyword);
                    if (node is not null)
                        nodes.Add(node);
                    break;
                default:
                    throw new TemplateSyntaxException($"Unexpected {token}", token.Line);
            }
        }
    }

    private Node? ParseStatement(JinjaToken keyword)
    {
        _index++;
        switch (keyword.Value)
        {
            case "if":
                return ParseIf(keyword.Line);
            case "for":
                return ParseFor(keyword.Line);
            case "set":
                return ParseSet(keyword.Line);
            case "macro":
                return ParseMacro(keyword.Line);
            case "call":
                return ParseCallBlock(keyword.Line);
            case "filter":
                List<FilterExpr> filters = ParseFilterChain();
                Expect(JinjaTokenKind.BlockEnd);
                List<Node> filtered = ParseBody(["endfilter"], out _);
                Expect(JinjaTokenKind.BlockEnd);
                return new FilterBlockNode(filters, filtered, keyword.Line);
            case "break":
                Expect(JinjaTokenKind.BlockEnd);
                return new BreakNode(keyword.Line);
            case "continue":
                Expect(JinjaTokenKind.BlockEnd);
                return new ContinueNode(keyword.Line);
            case "generation":
                // transformers' AssistantTracker marks assistant text for masks; it renders its body unchanged.
                Expect(JinjaTokenKind.BlockEnd);
                List<Node> inner = ParseBody(["endgeneration"], out _);
                Expect(JinjaTokenKind.BlockEnd);
                return new FilterBlockNode([], inner, keyword.Line);
            default:
                throw new TemplateSyntaxException($"Unknown or unsupported tag '{keyword.Value}'", keyword.Line);
        }
    }

    private IfNode ParseIf(int line)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        Expr condition = ParseTuple(allowCondition: true);
        Expect(JinjaTokenKind.BlockEnd);
        while (true)
        {
            List<Node> body = ParseBody(["elif", "else", "endif"], out string? end);
            branches.Add((condition, body));
            if (end == "elif")
            {
                condition = ParseTuple(allowCondition: true);
                Expect(JinjaTokenKind.BlockEnd);
                continue;
            }

            Expect(JinjaTokenKind.BlockEnd);
            if (end == "endif")
                return new IfNode(branches, null, line);
            List<Node> elseBody = ParseBody(["endif"], out _);
            Expect(JinjaTokenKind.BlockEnd);
            return new IfNode(branches, elseBody, line);
        }
    }

    private ForNode ParseFor(int line)
    {
        List<string> targets = ParseTargetNames();
        ExpectName("in");
        Expr iterable = ParseTuple(allowCondition: false);
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            _index++;
            filter = ParseTuple(allowCondition: true);
        }

        if (Current.IsName("recursive"))
            throw new TemplateSyntaxException("Recursive for loops are not supported", Current.Line);
        Expect(JinjaTokenKind.BlockEnd);
        List<Node> body = ParseBody(["else", "endfor"], out string? end);
        Expect(JinjaTokenKind.BlockEnd);
        List<Node>? elseBody = null;
        if (end == "else")
        {
            elseBody = ParseBody(["endfor"], out _);
            Expect(JinjaTokenKind.BlockEnd);
        }

        return new ForNode(targets, iterable, filter, body, elseBody, line);
    }

    private List<string> ParseTargetNames()
    {
        bool parenthesized = Current.IsOperator("(");
        if (parenthesized)
            _index++;
        var names = new List<string> { ExpectNameToken() };
        while (Current.IsOperator(","))
        {
            _index++;
            if (Current.Kind != JinjaTokenKind.Name || Current.Value == "in")
                break;
            names.Add(ExpectNameToken());
        }

        if (parenthesized)
            ExpectOperator(")");
        return names;
    }

    private Node ParseSet(int line)
    {
        string first = ExpectNameToken();
        string? attribute = null;
        var targets = new List<string> { first };
        if (Current.IsOperator("."))
        {
            _index++;
            attribute = ExpectNameToken();
        }
        else
        {
            while (Current.IsOperator(","))
            {
                _index++;
                targets.Add(ExpectNameToken());
            }
        }

        if (Current.IsOperator("="))
        {
            _index++;
            Expr value = ParseTuple(allowCondition: true);
            Expect(JinjaTokenKind.BlockEnd);
            return new SetNode(targets, attribute, value, line);
        }

        if (targets.Count > 1)
            throw new TemplateSyntaxException("A block set assigns a single name", line);
        List<FilterExpr> filters = Current.IsOperator("|") ? ParseFilterChain() : [];
        Expect(JinjaTokenKind.BlockEnd);
        List<Node> body = ParseBody(["endset"], out _);
        Expect(JinjaTokenKind.BlockEnd);
        return new SetBlockNode(first, attribute, body, filters, line);
    }

    private MacroNode ParseMacro(int line)
    {
        string name = ExpectNameToken();
        List<(string, Expr?)> parameters = ParseParameters();
        Expect(JinjaTokenKind.BlockEnd);
        List<Node> body = ParseBody(["endmacro"], out _);
        if (Current.Kind == JinjaTokenKind.Name)
            _index++;
        Expect(JinjaTokenKind.BlockEnd);
        return new MacroNode(name, parameters, body, line);
    }

    private CallBlockNode ParseCallBlock(int line)
    {
        List<(string, Expr?)> parameters = Current.IsOperator("(") ? ParseParameters() : [];
        Expr call = ParseExpression(allowCondition: false);
        if (call is not CallExpr callExpr)
            throw new TemplateSyntaxException("A call block needs a call expression, e.g. {% call macro(x) %}", line);
        Expect(JinjaTokenKind.BlockEnd);
        List<Node> body = ParseBody(["endcall"], out _);
        Expect(JinjaTokenKind.BlockEnd);
        return new CallBlockNode(callExpr, new MacroNode("caller", parameters, body, line), line);
    }

    private List<(string, Expr?)> ParseParameters()
    {
        ExpectOperator("(");
        var parameters = new List<(string, Expr?)>();
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0)
                ExpectOperator(",");
            if (Current.IsOperator(")"))
                break;
            string parameter = ExpectNameToken();
            Expr? defaultValue = null;
            if (Current.IsOperator("="))
            {
                _index++;
                defaultValue = ParseExpression(allowCondition: true);
            }

            else if (parameters.Any(p => p.Item2 is not null))
            {
                throw new TemplateSyntaxException("non-default argument follows default argument", Current.Line);
            }

            parameters.Add((parameter, defaultValue));
        }

        _index++;
        return parameters;
    }

    /// <summary><c>name(args) | name2</c> as used by filter blocks and block sets (the leading '|' is optional).</summary>
    private List<FilterExpr> ParseFilterChain()
    {
        var filters = new List<FilterExpr>();
        if (Current.IsOperator("|"))
            _index++;
        while (true)
        {
            filters.Add(ParseFilter(null));
            if (!Current.IsOperator("|"))
                return filters;
            _index++;
        }
    }

    /// <summary>
    /// One level deeper. Recursive descent recurses once per level, and rendering walks the tree the same way, so
    /// the limit keeps both off the end of the thread's stack (an overflow cannot be caught; it ends the process).
    /// A failed parse is abandoned whole, so levels are only given back on the way out of a successful one.
    /// </summary>
    private void Enter()
    {
        if (++_depth > _maxDepth)
            throw JinjaBudget.DepthExceeded(_maxDepth);
        JinjaBudget.EnsureStack();
    }

    private JinjaToken Expect(JinjaTokenKind kind)
    {
        JinjaToken token = Current;
        if (token.Kind != kind)
        {
            string expected = kind switch
            {
                JinjaTokenKind.BlockEnd => "'%}'",
                JinjaTokenKind.VariableEnd => "'}}'",
                _ => kind.ToString(),
            };
            throw new TemplateSyntaxException($"Expected {expected}, got {token}", token.Line);
        }

        _index++;
        return token;
    }

    private string ExpectNameToken()
    {
        JinjaToken token = Current;
        if (token.Kind != JinjaTokenKind.Name)
            throw new TemplateSyntaxException($"Expected a name, got {token}", token.Line);
        _index++;
        return token.Value;
    }

    private void ExpectName(string name)
    {
        if (!Current.IsName(name))
            throw new TemplateSyntaxException($"Expected '{name}', got {Current}", Current.Line);
        _index++;
    }

    private void ExpectOperator(string op)
    {
        if (!Current.IsOperator(op))
            throw new TemplateSyntaxException($"Expected '{op}', got {Current}", Current.Line);
        _index++;
    }
}
