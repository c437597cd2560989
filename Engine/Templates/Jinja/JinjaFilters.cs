using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>jinja2's built-in filters that chat templates use, with transformers' <c>tojson</c>.</summary>
internal static class JinjaFilters
{
    private static readonly Dictionary<string, Func<object?, JinjaArguments, object?>> Filters = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, _) => v is double d ? (object)Math.Abs(d) : AbsLong(JinjaOps.ToLong(v)),
        ["capitalize"] = (v, _) => JinjaMethods.Capitalize(JinjaOps.ToStr(v)),
        ["count"] = (v, _) => JinjaOps.Length(v),
        ["length"] = (v, _) => JinjaOps.Length(v),
        ["default"] = Default,
        ["d"] = Default,
        ["dictsort"] = DictSort,
        ["escape"] = (v, _) => Escape(v),
        ["e"] = (v, _) => Escape(v),
        ["first"] = (v, _) => JinjaOps.Iterate(v) is { Count: > 0 } items ? items[0] : new JinjaUndefined("No first item, sequence was empty."),
        ["last"] = (v, _) => JinjaOps.Iterate(v) is { Count: > 0 } items ? items[^1] : new JinjaUndefined("No last item, sequence was empty."),
        ["float"] = (v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["int"] = (v, a) => ToInt(v, a.Get(0, "default", 0L)),
        ["indent"] = Indent,
        ["items"] = (v, _) => v switch
        {
            JinjaUndefined => new List<object?>(),
            Dictionary<string, object?> dict => new JinjaGenerator(dict.Select(p => (object?)JinjaTuple.Pair(p.Key, p.Value))),
            _ => throw new ChatTemplateException($"Can only get item pairs from a mapping, not '{JinjaOps.TypeName(v)}'"),
        },
        ["join"] = Join,
        ["list"] = (v, _) => CopyList(JinjaOps.Iterate(v)),
        ["lower"] = (v, _) => JinjaOps.ToStr(v).ToLowerInvariant(),
        ["upper"] = (v, _) => JinjaOps.ToStr(v).ToUpperInvariant(),
        ["title"] = (v, _) => JinjaMethods.Title(JinjaOps.ToStr(v)),
        ["map"] = Map,
        ["max"] = (v, a) => MinMax(v, a, max: true),
        ["min"] = (v, a) => MinMax(v, a, max: false),
        ["select"] = (v, a) => Select(v, a, byAttribute: false, keep: true),
        ["reject"] = (v, a) => Select(v, a, byAttribute: false, keep: false),
        ["selectattr"] = (v, a) => Select(v, a, byAttribute: true, keep: true),
        ["rejectattr"] = (v, a) => Select(v, a, byAttribute: true, keep: false),
        ["replace"] = (v, a) => JinjaMethods.Replace(JinjaOps.ToStr(v), JinjaOps.ToStr(a.Get(0, "old")), JinjaOps.ToStr(a.Get(1, "new")),
            a.Get(2, "count") is { } count ? JinjaOps.ToLong(count) : -1),
        ["reverse"] = (v, _) => v switch
        {
            string s => string.Concat(JinjaOps.Characters(s).AsEnumerable().Reverse()),
            // reversed() of a list is an iterator; of anything else jinja2 builds a reversed list.
            List<object?> and not JinjaGenerator => new JinjaGenerator(Enumerable.Reverse(JinjaOps.Iterate(v)), "list_reverseiterator"),
            _ => Enumerable.Reverse(JinjaOps.Iterate(v)).ToList(),
        },
        ["round"] = Round,
        ["safe"] = (v, _) => v as JinjaMarkup ?? new JinjaMarkup(JinjaOps.ToStr(v)),
        ["sort"] = Sort,
        ["string"] = (v, _) => JinjaOps.ToStr(v),
        ["sum"] = (v, a) => JinjaOps.Iterate(v).Aggregate(a.Get(1, "start", 0L), (acc, x) =>
            JinjaOps.Binary("+", acc, a.Get(0, "attribute") is { } attr ? Attribute(x, attr) : x)),
        ["tojson"] = ToJson,
        ["trim"] = (v, a) => JinjaMethods.Strip(JinjaOps.ToStr(v), a.Get(0, "chars"), true, true),
        ["unique"] = (v, _) => new JinjaGenerator(Unique(JinjaOps.Iterate(v))),
        ["wordcount"] = (v, _) => (long)JinjaOps.ToStr(v).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length,
        ["format"] = (v, a) => JinjaFormat.Percent(JinjaOps.ToStr(v), new JinjaTuple(a.Positional)),
    };

    public static bool Exists(string name) => Filters.ContainsKey(name);

    public static object? Apply(string name, object? value, JinjaArguments args)
    {
        if (name is not ("safe" or "escape" or "e"))
            value = JinjaMarkup.Unwrap(value);
        if (!Filters.TryGetValue(name, out Func<object?, JinjaArguments, object?>? filter))
            throw new ChatTemplateException($"No filter named '{name}'");
        // A call, plus the scan of its input: most filters walk the whole string or list once.
        JinjaBudget budget = JinjaBudget.Current;
        budget.Step();
        budget.Charge(Size(value));
        return filter(value, args);
    }

    /// <summary>Characters of a string or items of a list or dict: what an operation on the value scans.</summary>
    public static long Size(object? value) => value switch
    {
        string s => s.Length,
        JinjaMarkup markup => markup.Text.Length,
        List<object?> list => list.Count,
        Dictionary<string, object?> dict => dict.Count,
        _ => 0,
    };

    private static long AbsLong(long value) => value == long.MinValue ? value : Math.Abs(value);

    private static List<object?> CopyList(List<object?> items)
    {
        JinjaBudget.Current.List(items.Count);
        return [.. items];
    }

    private static object? Default(object? value, JinjaArguments args)
    {
        bool boolean = JinjaOps.IsTruthy(args.Get(1, "boolean", false));
        if (value is JinjaUndefined || (boolean && !JinjaOps.IsTruthy(value)))
            return args.Get(0, "default_value", "");
        return value;
    }

    /// <summary>transformers' <c>tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)</c>.</summary>
    private static string ToJson(object? value, JinjaArguments args)
    {
        object? indent = args.Get(1, "indent");
        string? itemSeparator = null;
        string? keySeparator = null;
        if (args.Get(2, "separators") is List<object?> { Count: 2 } separators)
        {
            itemSeparator = JinjaOps.ToStr(separators[0]);
            keySeparator = JinjaOps.ToStr(separators[1]);
        }

        // Python indents by " " * indent, so a negative indent is none; a huge one fails the string length limit.
        int? spaces = indent is null ? null : (int)Math.Clamp(JinjaOps.ToLong(indent), 0, int.MaxValue);
        return PythonJson.Dumps(value, spaces, itemSeparator, keySeparator,
            sortKeys: JinjaOps.IsTruthy(args.Get(3, "sort_keys", false)),
            ensureAscii: JinjaOps.IsTruthy(args.Get(0, "ensure_ascii", false)));
    }

    private static string Join(object? value, JinjaArguments args)
    {
        string separator = JinjaOps.ToStr(args.Get(0, "d", ""));
        object? attribute = args.Get(1, "attribute");
        IEnumerable<object?> items = JinjaOps.Iterate(value);
        if (attribute is not null)
            items = items.Select(x => Attribute(x, attribute));
        return JoinStrings(separator, items.Select(JinjaOps.ToStr));
    }

    /// <summary><c>string.Join</c>, held to the string length limit before the result is allocated.</summary>
    public static string JoinStrings(string separator, IEnumerable<string> items)
    {
        JinjaBudget budget = JinjaBudget.Current;
        List<string> parts = [.. items];
        long length = 0;
        foreach (string part in parts)
        {
            length += part.Length + separator.Length;
            budget.Growing(length);
        }

        budget.Charge(length);
        return string.Join(separator, parts);
    }

    private static string Indent(object? value, JinjaArguments args)
    {
        object? width = args.Get(0, "width", 4L);
        long spaces = width is string ? 0 : Math.Max(0, JinjaOps.ToLong(width));
        JinjaBudget.Current.String(spaces);
        string indention = width is string w ? w : new string(' ', (int)spaces);
        bool first = JinjaOps.IsTruthy(args.Get(1, "first", false));
        bool blank = JinjaOps.IsTruthy(args.Get(2, "blank", false));
        // jinja2 appends a newline before splitlines, so a trailing newline does not add an indented empty line.
        string text = JinjaOps.Concat(JinjaOps.ToStr(value), "\n");
        List<object?> lines = JinjaMethods.SplitLines(text);
        // Every line may get the indention: check the longest result before building it.
        JinjaBudget.Current.String(text.Length + ((lines.Count + 1) * (long)indention.Length));
        var sb = new StringBuilder();
        if (blank)
        {
            sb.AppendJoin("\n" + indention, lines.Select(l => (string)l!));
        }
        else
        {
            sb.Append((string)lines[0]!);
            for (int i = 1; i < lines.Count; i++)
            {
                string line = (string)lines[i]!;
                sb.Append('\n');
                if (line.Length > 0)
                    sb.Append(indention);
                sb.Append(line);
            }
        }

        return first ? indention + sb : sb.ToString();
    }

    private static List<object?> Map(object? value, JinjaArguments args)
    {
        // jinja2 maps nothing over a falsy value, whatever its type.
        List<object?> items = JinjaOps.IsTruthy(value) ? JinjaOps.Iterate(value) : [];
        if (args.Keywords.TryGetValue("attribute", out object? attribute))
        {
            object? fallback = args.Keywords.GetValueOrDefault("default", null);
            bool hasDefault = args.Keywords.ContainsKey("default");
            return new JinjaGenerator(items.Select(x =>
            {
                object? v = Attribute(x, attribute);
                return v is JinjaUndefined && hasDefault ? fallback : v;
            }));
        }

        if (args.Positional.Count == 0)
            throw new ChatTemplateException("map requires a filter argument");
        string filter = JinjaOps.ToStr(args.Positional[0]);
        var rest = new JinjaArguments(args.Positional.Skip(1).ToList(), args.Keywords);
        return new JinjaGenerator(items.Select(x => Apply(filter, x, rest)));
    }

    private static List<object?> Select(object? value, JinjaArguments args, bool byAttribute, bool keep)
    {
        List<object?> items = JinjaOps.IsTruthy(value) ? JinjaOps.Iterate(value) : [];
        int offset = byAttribute ? 1 : 0;
        object? attribute = byAttribute ? args.Get(0, "attribute") : null;
        string? test = args.Positional.Count > offset ? JinjaOps.ToStr(args.Positional[offset]) : null;
        List<object?> testArgs = args.Positional.Skip(offset + 1).ToList();
        var result = new List<object?>();
        foreach (object? item in items)
        {
            object? subject = byAttribute ? Attribute(item, attribute) : item;
            bool passed = test is null ? JinjaOps.IsTruthy(subject) : JinjaTests.Apply(test, subject, testArgs);
            if (passed == keep)
                result.Add(item);
        }

        return new JinjaGenerator(result);
    }

    /// <summary>jinja2's <c>make_attrgetter</c>: a dotted path, each part an item or attribute (digits index lists).</summary>
    public static object? Attribute(object? item, object? attribute)
    {
        if (attribute is long index)
            return JinjaMethods.GetItem(item, index);
        object? current = item;
        foreach (string part in JinjaOps.ToStr(attribute).Split('.'))
        {
            object? key = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : part;
            current = JinjaMethods.GetItem(current, key);
        }

        return current;
    }

    private static List<object?> DictSort(object? value, JinjaArguments args)
    {
        if (value is not Dictionary<string, object?> dict)
            throw new ChatTemplateException("dictsort expects a mapping");
        bool caseSensitive = JinjaOps.IsTruthy(args.Get(0, "case_sensitive", false));
        bool byValue = JinjaOps.ToStr(args.Get(1, "by", "key")) == "value";
        bool reverse = JinjaOps.IsTruthy(args.Get(2, "reverse", false));
        List<object?> pairs = dict.Select(p => (object?)JinjaTuple.Pair(p.Key, p.Value)).ToList();
        return SortBy(pairs, p => SortKey(((List<object?>)p!)[byValue ? 1 : 0], caseSensitive), reverse);
    }

    private static List<object?> Sort(object? value, JinjaArguments args)
    {
        bool reverse = JinjaOps.IsTruthy(args.Get(0, "reverse", false));
        bool caseSensitive = JinjaOps.IsTruthy(args.Get(1, "case_sensitive", false));
        object? attribute = args.Get(2, "attribute");
        return SortBy(JinjaOps.Iterate(value), x => SortKey(attribute is null ? x : Attribute(x, attribute), caseSensitive), reverse);
    }

    private static object? SortKey(object? value, bool caseSensitive) =>
        !caseSensitive && value is string s ? s.ToLowerInvariant() : value;

    private static List<object?> SortBy(List<object?> items, Func<object?, object?> key, bool reverse)
    {
        // Stable, like Python's sort.
        try
        {
            return SortStable(items, key, reverse);
        }
        catch (InvalidOperationException e) when (e.InnerException is ChatTemplateException inner)
        {
            throw inner;
        }
    }

    private static List<object?> SortStable(List<object?> items, Func<object?, object?> key, bool reverse)
    {
        // About n log2 n comparisons.
        JinjaBudget.Current.Charge(items.Count * (long)(1 + Math.Log2(items.Count + 1)));
        List<object?> sorted = items.Select((x, i) => (x, i)).OrderBy(p => p, Comparer<(object? X, int I)>.Create((a, b) =>
        {
            int c = JinjaOps.Compare(key(a.X), key(b.X), "<");
            return c != 0 ? (reverse ? -c : c) : a.I.CompareTo(b.I);
        })).Select(p => p.x).ToList();
        return sorted;
    }

    private static object? MinMax(object? value, JinjaArguments args, bool max)
    {
        List<object?> items = JinjaOps.Iterate(value);
        if (items.Count == 0)
            return new JinjaUndefined($"No aggregated item, sequence was empty.");
        bool caseSensitive = JinjaOps.IsTruthy(args.Get(0, "case_sensitive", false));
        object? attribute = args.Get(1, "attribute");
        object? best = items[0];
        foreach (object? item in items.Skip(1))
        {
            object? a = SortKey(attribute is null ? item : Attribute(item, attribute), caseSensitive);
            object? b = SortKey(attribute is null ? best : Attribute(best, attribute), caseSensitive);
            int c = JinjaOps.Compare(a, b, "<");
            if (max ? c > 0 : c < 0)
                best = item;
        }

        return best;
    }

    private static List<object?> Unique(List<object?> items)
    {
        // Each item is compared with every kept one: charged as the quadratic scan it is.
        JinjaBudget budget = JinjaBudget.Current;
        var result = new List<object?>();
        foreach (object? item in items)
        {
            budget.Charge(result.Count);
            object? key = SortKey(item, caseSensitive: false);
            if (!result.Exists(x => JinjaOps.PyEquals(SortKey(x, caseSensitive: false), key)))
                result.Add(item);
        }

        return result;
    }

    private static object Round(object? value, JinjaArguments args)
    {
        int precision = (int)JinjaOps.ToLong(args.Get(0, "precision", 0L));
        string method = JinjaOps.ToStr(args.Get(1, "method", "common"));
        double factor = Math.Pow(10, precision);
        double x = JinjaOps.ToDouble(value) * factor;
        double rounded = method switch
        {
            "ceil" => Math.Ceiling(x),
            "floor" => Math.Floor(x),
            _ => Math.Round(x, MidpointRounding.AwayFromZero),
        };
        return rounded / factor;
    }

    private static object? ToInt(object? value, object? fallback) => value switch
    {
        JinjaUndefined undefined => throw undefined.Error(),
        long or bool => JinjaOps.ToLong(value),
        double d => (long)Math.Truncate(d),
        string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) => l,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => (long)Math.Truncate(d),
        _ => fallback,
    };

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        JinjaUndefined undefined => throw undefined.Error(),
        long or bool or double => JinjaOps.ToDouble(value),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        _ => fallback,
    };

    private static JinjaMarkup Escape(object? value) =>
        value as JinjaMarkup ?? new JinjaMarkup(JinjaMarkup.Escape(JinjaOps.ToStr(value)));
}
