namespace Fathom.Engine.Templates.Jinja;

/// <summary>jinja2's built-in tests (<c>x is defined</c>, <c>x is none</c>, <c>x is equalto y</c> …).</summary>
internal static class JinjaTests
{
    private static readonly Dictionary<string, Func<object?, List<object?>, bool>> Tests = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not JinjaUndefined,
        ["undefined"] = (v, _) => v is JinjaUndefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["number"] = (v, _) => v is long or double or bool,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is Dictionary<string, object?>,
        ["iterable"] = (v, _) => v is string or List<object?> or Dictionary<string, object?> or JinjaUndefined,
        ["sequence"] = (v, _) => v is string or Dictionary<string, object?> or JinjaUndefined || (v is List<object?> && v is not JinjaGenerator),
        ["callable"] = (v, _) => v is JinjaCallable,
        ["sameas"] = (v, a) => ReferenceEquals(v, Arg(a)) || (v is null && Arg(a) is null) || (v is bool b && Arg(a) is bool c && b == c),
        ["equalto"] = (v, a) => JinjaOps.PyEquals(v, Arg(a)),
        ["eq"] = (v, a) => JinjaOps.PyEquals(v, Arg(a)),
        ["=="] = (v, a) => JinjaOps.PyEquals(v, Arg(a)),
        ["ne"] = (v, a) => !JinjaOps.PyEquals(v, Arg(a)),
        ["!="] = (v, a) => !JinjaOps.PyEquals(v, Arg(a)),
        ["lt"] = (v, a) => JinjaOps.Compare(v, Arg(a), "<") < 0,
        ["lessthan"] = (v, a) => JinjaOps.Compare(v, Arg(a), "<") < 0,
        ["le"] = (v, a) => JinjaOps.Compare(v, Arg(a), "<=") <= 0,
        ["gt"] = (v, a) => JinjaOps.Compare(v, Arg(a), ">") > 0,
        ["greaterthan"] = (v, a) => JinjaOps.Compare(v, Arg(a), ">") > 0,
        ["ge"] = (v, a) => JinjaOps.Compare(v, Arg(a), ">=") >= 0,
        ["in"] = (v, a) => JinjaOps.Contains(Arg(a), v),
        ["odd"] = (v, _) => JinjaOps.ToLong(v) % 2 != 0,
        ["even"] = (v, _) => JinjaOps.ToLong(v) % 2 == 0,
        ["divisibleby"] = (v, a) => DivisibleBy(JinjaOps.ToLong(v), JinjaOps.ToLong(Arg(a))),
        ["lower"] = (v, _) => v is string s && string.Equals(s, s.ToLowerInvariant(), StringComparison.Ordinal),
        ["upper"] = (v, _) => v is string s && string.Equals(s, s.ToUpperInvariant(), StringComparison.Ordinal),
    };

    public static bool Exists(string name) => Tests.ContainsKey(name);

    public static bool Apply(string name, object? value, List<object?> args)
    {
        if (!Tests.TryGetValue(name, out Func<object?, List<object?>, bool>? test))
            throw new ChatTemplateException($"No test named '{name}'");
        JinjaBudget.Current.Step();
        return test(value, args);
    }

    // Python raises ZeroDivisionError for 0; long.MinValue % -1 overflows in .NET, and everything divides by -1.
    private static bool DivisibleBy(long value, long divisor) => divisor switch
    {
        0 => throw new ChatTemplateException("integer division or modulo by zero"),
        -1 => true,
        _ => value % divisor == 0,
    };

    private static object? Arg(List<object?> args) =>
        args.Count > 0 ? args[0] : throw new ChatTemplateException("the test needs an argument");
}
