using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// A parsed Jinja template (parse once, render many times) with the globals Hugging Face's
/// <c>apply_chat_template</c> provides: <c>raise_exception</c>, <c>strftime_now</c>, plus jinja2's
/// <c>range</c>, <c>namespace</c> and <c>dict</c>.
/// </summary>
internal sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Node> _nodes;

    /// <summary>Parses <paramref name="source"/>, nesting at most <see cref="ChatTemplateLimits.MaxDepth"/> deep.</summary>
    public JinjaTemplate(string source, ChatTemplateLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        Limits = limits ?? ChatTemplateLimits.Default;
        Limits.Validate();
        _nodes = JinjaParser.Parse(source, Limits.MaxDepth);
    }

    /// <summary>Whether the template reads the variable <paramref name="name"/> anywhere (not counting its own assignments' targets).</summary>
    public bool Reads(string name) => JinjaVariableReferences.Reads(_nodes, name);

    /// <summary>The limits renders use unless they pass their own.</summary>
    public ChatTemplateLimits Limits { get; }

    /// <summary>Renders with <paramref name="variables"/> (already converted to runtime values).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, Func<DateTime>? now = null, ChatTemplateLimits? limits = null)
    {
        limits ??= Limits;
        limits.Validate();
        using JinjaBudget.Scope budget = JinjaBudget.Enter(limits);
        var globals = new JinjaScope(null);
        globals.Set("range", new JinjaCallable("range", (a, _) => Range(a)));
        globals.Set("namespace", new JinjaCallable("namespace", (a, k) => MakeNamespace(a, k)));
        globals.Set("dict", new JinjaCallable("dict", (a, k) => MakeDict(a, k)));
        globals.Set("raise_exception", new JinjaCallable("raise_exception", (a, _) =>
            throw new ChatTemplateException(a.Count > 0 ? JinjaOps.ToStr(a[0]) : "raise_exception called", raisedByTemplate: true)));
        Func<DateTime> clock = now ?? (() => DateTime.Now);
        globals.Set("strftime_now", new JinjaCallable("strftime_now", (a, _) =>
            Strftime(clock(), a.Count > 0 ? JinjaOps.ToStr(a[0]) : throw new ChatTemplateException("strftime_now needs a format"))));
        var scope = new JinjaScope(globals);
        foreach (KeyValuePair<string, object?> pair in variables)
            scope.Set(pair.Key, pair.Value);
        return JinjaRenderer.Render(_nodes, scope);
    }

    private static List<object?> Range(List<object?> args)
    {
        long start = 0, stop, step = 1;
        switch (args.Count)
        {
            case 1:
                stop = JinjaOps.ToLong(args[0]);
                break;
            case 2:
                start = JinjaOps.ToLong(args[0]);
                stop = JinjaOps.ToLong(args[1]);
                break;
            case 3:
                start = JinjaOps.ToLong(args[0]);
                stop = JinjaOps.ToLong(args[1]);
                step = JinjaOps.ToLong(args[2]);
                break;
            default:
                throw new ChatTemplateException("range expected 1 to 3 arguments");
        }

        if (step == 0)
            throw new ChatTemplateException("range() arg 3 must not be zero");
        // The length first (in 128 bits: the bounds may be any longs), so a huge range fails before it allocates.
        Int128 span = step > 0 ? (Int128)stop - start : (Int128)start - stop;
        Int128 magnitude = step > 0 ? step : -(Int128)step;
        Int128 count = span <= 0 ? 0 : ((span - 1) / magnitude) + 1;
        JinjaBudget.Current.List(count > long.MaxValue ? long.MaxValue : (long)count);
        var items = new List<object?>((int)count);
        for (long i = 0; i < (long)count; i++)
            items.Add(start + (i * step));
        return items;
    }

    private static JinjaNamespace MakeNamespace(List<object?> args, Dictionary<string, object?> kwargs)
    {
        var ns = new JinjaNamespace();
        foreach (object? arg in args)
        {
            if (arg is Dictionary<string, object?> initial)
            {
                foreach (KeyValuePair<string, object?> pair in initial)
                    ns.Attributes[pair.Key] = pair.Value;
            }
        }

        foreach (KeyValuePair<string, object?> pair in kwargs)
            ns.Attributes[pair.Key] = pair.Value;
        return ns;
    }

    private static Dictionary<string, object?> MakeDict(List<object?> args, Dictionary<string, object?> kwargs)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (args.Count > 0 && args[0] is Dictionary<string, object?> initial)
        {
            foreach (KeyValuePair<string, object?> pair in initial)
                dict[pair.Key] = pair.Value;
        }

        foreach (KeyValuePair<string, object?> pair in kwargs)
            dict[pair.Key] = pair.Value;
        return dict;
    }

    /// <summary>Python's <c>datetime.strftime</c> for the directives templates use (C locale names).</summary>
    internal static string Strftime(DateTime time, string format)
    {
        var sb = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char d = format[++i];
            bool noPad = false;
            if (d == '-' && i + 1 < format.Length)
            {
                // glibc's "%-d": no zero padding.
                noPad = true;
                d = format[++i];
            }

            string pad2 = noPad ? "0" : "00";
            sb.Append(d switch
            {
                'Y' => time.Year.ToString(c),
                'y' => (time.Year % 100).ToString(pad2, c),
                'm' => time.Month.ToString(pad2, c),
                'd' => time.Day.ToString(pad2, c),
                'H' => time.Hour.ToString(pad2, c),
                'I' => ((time.Hour + 11) % 12 + 1).ToString(pad2, c),
                'M' => time.Minute.ToString(pad2, c),
                'S' => time.Second.ToString(pad2, c),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'b' => time.ToString("MMM", c),
                'B' => time.ToString("MMMM", c),
                'a' => time.ToString("ddd", c),
                'A' => time.ToString("dddd", c),
                'j' => time.DayOfYear.ToString(noPad ? "0" : "000", c),
                'e' => time.Day.ToString(c).PadLeft(2),
                '%' => "%",
                _ => "%" + (noPad ? "-" : "") + d,
            });
        }

        return sb.ToString();
    }
}
