using System.Diagnostics;
using System.Text;
using Fathom.Engine.Templates;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Random but syntactically valid templates (a small grammar of the expressions, filters, methods, tests and
/// blocks chat templates use, with extreme operands), so that rendering, not just parsing, is fuzzed: each either
/// renders or fails with a <see cref="ChatTemplateException"/>, within bounded time. Fixed seed.
/// </summary>
public sealed class TemplateExpressionFuzzTests
{
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    private static readonly ChatTemplateLimits Limits = new()
    {
        MaxSteps = 20_000,
        MaxOutputLength = 256 * 1024,
        MaxStringLength = 256 * 1024,
        MaxListLength = 64 * 1024,
    };

    private static readonly string[] Leaves =
    [
        "0", "1", "-1", "2", "7", "1000000000", "9223372036854775807", "(-9223372036854775807 - 1)", "0.0", "1.5", "1e308", "-0.0",
        "''", "'ab'", "'x\\ny'", "'%s'", "'%d'", "'<b>'", "'ÿ😀'", "none", "true", "false", "messages", "messages[0]",
        "messages[-1]['content']", "messages[0].role", "ns", "ns.x", "ns.l", "bos_token", "tools", "add_generation_prompt",
        "nothing", "[]", "{}", "range(3)", "'a b  c'",
    ];

    private static readonly string[] BinaryOps = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">=", "and", "or", "in", "not in"];

    private static readonly string[] Filters =
    [
        "abs", "capitalize", "count", "length", "default(E)", "dictsort", "escape", "first", "last", "float", "int",
        "indent(E)", "indent(E, true, true)", "items", "join(E)", "list", "lower", "upper", "title", "map('upper')",
        "map(attribute='role')", "max", "min", "select", "reject('none')", "selectattr('role')", "rejectattr('role', 'equalto', E)",
        "replace(E, E)", "reverse", "round(E)", "round(E, 'floor')", "safe", "sort", "sort(attribute='role')", "string", "sum",
        "tojson", "tojson(indent=E)", "trim", "unique", "wordcount", "format(E)", "batch(2)",
    ];

    private static readonly string[] Methods =
    [
        "strip()", "strip(E)", "split(E)", "split()", "rsplit(E, E)", "startswith(E)", "endswith(E)", "upper()", "replace(E, E)",
        "find(E)", "count(E)", "join(E)", "splitlines()", "items()", "keys()", "values()", "get(E)", "get(E, E)", "title()",
        "isdigit()",
    ];

    private static readonly string[] Tests = ["defined", "none", "string", "number", "mapping", "iterable", "equalto E", "in E", "odd", "divisibleby E", "lt E", "sameas E"];

    private static readonly ChatMessage[] Chat =
    [
        new ChatMessage("user", "Hello! Who are you?"),
        new ChatMessage("assistant", "I am a helpful assistant."),
        new ChatMessage("user", "Tell me a joke."),
    ];

    private static string Expr(Random random, int depth)
    {
        if (depth <= 0 || random.Next(4) == 0)
            return Leaves[random.Next(Leaves.Length)];
        string E() => Expr(random, depth - 1);
        string Fill(string pattern)
        {
            var sb = new StringBuilder();
            foreach (char c in pattern)
                sb.Append(c == 'E' ? E() : c.ToString());
            return sb.ToString();
        }

        return random.Next(14) switch
        {
            0 or 1 => $"({E()} {BinaryOps[random.Next(BinaryOps.Length)]} {E()})",
            2 => $"(-{E()})",
            3 => $"(not {E()})",
            4 => $"[{E()}, {E()}]",
            5 => $"{{'k': {E()}, 'role': {E()}}}",
            6 or 7 => $"({E()} | {Fill(Filters[random.Next(Filters.Length)])})",
            8 => $"({E()}).{Fill(Methods[random.Next(Methods.Length)])}",
            9 => random.Next(2) == 0 ? $"({E()})[{E()}]" : $"({E()})[{E()}:{E()}:{E()}]",
            10 => $"({E()} if {E()} else {E()})",
            11 => $"({E()} is {Fill(Tests[random.Next(Tests.Length)])})",
            12 => random.Next(3) switch { 0 => $"range({E()})", 1 => $"namespace(a={E()})", _ => $"dict(a={E()})" },
            _ => $"('%s %s' % ({E()}, {E()}))",
        };
    }

    private static string Block(Random random, int depth)
    {
        string E() => Expr(random, 3);
        if (depth <= 0)
            return $"{{{{ {E()} }}}}";
        string B() => Block(random, depth - 1);
        return random.Next(8) switch
        {
            0 => $"{{% set ns.x = {E()} %}}{B()}",
            1 => $"{{% set ns.l = ns.l + [{E()}] %}}{B()}",
            2 => $"{{% for a in {E()} %}}{{{{ loop.index }}}}{B()}{{% if {E()} %}}{{% break %}}{{% endif %}}{{% endfor %}}",
            3 => $"{{% if {E()} %}}{B()}{{% elif {E()} %}}{B()}{{% else %}}{B()}{{% endif %}}",
            4 => $"{{% macro f(a, b={E()}) %}}{B()}{{{{ a }}}}{{% endmacro %}}{{{{ f({E()}) }}}}",
            5 => $"{{% set t %}}{B()}{{% endset %}}{{{{ t | length }}}}",
            6 => $"{{% filter upper %}}{B()}{{% endfilter %}}",
            _ => $"{{{{ {E()} }}}}{B()}",
        };
    }

    [Fact]
    public void Random_valid_templates_render_or_fail_only_with_template_errors()
    {
        var random = new Random(1207);
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        int rendered = 0;
        for (int i = 0; i < 4000; i++)
        {
            string source = "{% set ns = namespace(x=1, l=[]) %}" + Block(random, random.Next(4));
            var clock = Stopwatch.StartNew();
            try
            {
                ChatTemplate.Parse(source, Limits).Render(Chat, new ChatTemplateRenderOptions { BosToken = "<s>" });
                rendered++;
            }
            catch (ChatTemplateException)
            {
                // The template's own errors (type errors, undefined values), syntax errors and limits.
            }
            catch (Exception e)
            {
                string key = $"{e.GetType().Name} in {e.TargetSite?.DeclaringType?.Name}.{e.TargetSite?.Name}";
                failures.TryAdd(key, $"case {i}: {e.Message}\n--- template ---\n{source}\n--- stack ---\n{e.StackTrace}");
            }

            Assert.True(clock.Elapsed < PerCase, $"case {i} took {clock.Elapsed}:\n{source}");
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Select(f => $"{f.Key}: {f.Value}")));
        // The grammar is meant to exercise rendering: most cases must get through it.
        Assert.True(rendered > 400, $"only {rendered} of 4000 rendered");
    }
}
