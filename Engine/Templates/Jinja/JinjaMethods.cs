using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// Attribute and item access with jinja2's rules (<c>a.b</c> tries the attribute, then the item; <c>a['b']</c> the
/// item, then the attribute), and the Python methods of str, dict and list that a sandboxed template may call.
/// </summary>
internal static class JinjaMethods
{
    private static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get"];

    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case JinjaUndefined undefined:
                throw undefined.Error();
            case Dictionary<string, object?> dict:
                if (DictMethods.Contains(name))
                    return DictMethod(dict, name);
                return dict.TryGetValue(name, out object? value) ? value : JinjaUndefined.ForAttribute(target, name);
            case string s:
                // A string method scans the string (or copies it) once.
                JinjaBudget.Current.Charge(s.Length);
                return (object?)StringMethod(s, name) ?? JinjaUndefined.ForAttribute(target, name);
            case JinjaNamespace ns:
                return ns.Attributes.TryGetValue(name, out object? attr) ? attr : JinjaUndefined.ForAttribute(target, name);
            case JinjaLoop loop:
                return loop.Get(name);
            default:
                return JinjaUndefined.ForAttribute(target, name);
        }
    }

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case JinjaUndefined undefined:
                throw undefined.Error();
            case Dictionary<string, object?> dict when key is string k:
                if (dict.TryGetValue(k, out object? value))
                    return value;
                return DictMethods.Contains(k) ? DictMethod(dict, k) : JinjaUndefined.ForAttribute(target, k);
            case List<object?> list when key is long or bool:
                long index = JinjaOps.ToLong(key);
                if (index < 0)
                    index += list.Count;
                return index >= 0 && index < list.Count ? list[(int)index] : new JinjaUndefined($"'{JinjaOps.TypeName(target)} object' has no attribute '{key}'");
            case string s when key is long or bool:
                List<object?> chars = JinjaOps.Characters(s);
                long at = JinjaOps.ToLong(key);
                if (at < 0)
                    at += chars.Count;
                return at >= 0 && at < chars.Count ? chars[(int)at] : new JinjaUndefined($"'str object' has no attribute '{key}'");
            default:
                return key is string name ? GetAttribute(target, name) : JinjaUndefined.ForAttribute(target, JinjaOps.ToStr(key));
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is JinjaUndefined undefined)
            throw undefined.Error();
        List<object?> items = target switch
        {
            List<object?> list => list,
            string s => JinjaOps.Characters(s),
            _ => null!,
        };
        if (items is null)
        {
            // jinja2 falls back to an attribute lookup, which finds nothing.
            return new JinjaUndefined($"'{JinjaOps.TypeName(target)} object' has no attribute 'slice'");
        }

        long n = items.Count;
        long stepValue = step is null ? 1 : JinjaOps.ToLong(step);
        if (stepValue == 0)
            throw new ChatTemplateException("slice step cannot be zero");
        long first, end;
        if (stepValue > 0)
        {
            first = Clamp(start, n, 0, 0, n);
            end = Clamp(stop, n, n, 0, n);
        }
        else
        {
            first = Clamp(start, n, n - 1, -1, n - 1);
            end = Clamp(stop, n, -1, -1, n - 1);
        }

        // Counted, not stepped: i += step could overflow for a huge step.
        long distance = stepValue > 0 ? end - first : first - end;
        long magnitude = stepValue == long.MinValue ? long.MaxValue : Math.Abs(stepValue);
        long count = distance <= 0 ? 0 : ((distance - 1) / magnitude) + 1;
        JinjaBudget.Current.List(count);
        var result = new List<object?>((int)count);
        for (long k = 0; k < count; k++)
            result.Add(items[(int)(first + (stepValue > 0 ? k * magnitude : -k * magnitude))]);

        if (target is string)
        {
            var sb = new StringBuilder();
            foreach (object? c in result)
                sb.Append((string)c!);
            return sb.ToString();
        }

        return result;
    }

    private static long Clamp(object? bound, long n, long absent, long low, long high)
    {
        if (bound is null)
            return absent;
        long value = JinjaOps.ToLong(bound);
        if (value < 0)
            value += n;
        return Math.Clamp(value, low, high);
    }

    private static JinjaCallable DictMethod(Dictionary<string, object?> dict, string name) => name switch
    {
        "items" => new JinjaCallable("items", (_, _) => dict.Select(p => (object?)JinjaTuple.Pair(p.Key, p.Value)).ToList()),
        "keys" => new JinjaCallable("keys", (_, _) => dict.Keys.Select(k => (object?)k).ToList()),
        "values" => new JinjaCallable("values", (_, _) => dict.Values.ToList()),
        _ => new JinjaCallable("get", (args, _) =>
            args.Count > 0 && args[0] is string key && dict.TryGetValue(key, out object? v) ? v : (args.Count > 1 ? args[1] : null)),
    };

    private static JinjaCallable? StringMethod(string s, string name) => name switch
    {
        "strip" => new(name, (a, _) => Strip(s, Arg(a, 0), true, true)),
        "lstrip" => new(name, (a, _) => Strip(s, Arg(a, 0), true, false)),
        "rstrip" => new(name, (a, _) => Strip(s, Arg(a, 0), false, true)),
        "split" => new(name, (a, k) => Split(s, Arg(a, 0) ?? Kw(k, "sep"), MaxSplit(a, k), fromRight: false)),
        "rsplit" => new(name, (a, k) => Split(s, Arg(a, 0) ?? Kw(k, "sep"), MaxSplit(a, k), fromRight: true)),
        "startswith" => new(name, (a, _) => Affix(s, Arg(a, 0), start: true)),
        "endswith" => new(name, (a, _) => Affix(s, Arg(a, 0), start: false)),
        "upper" => new(name, (_, _) => s.ToUpperInvariant()),
        "lower" => new(name, (_, _) => s.ToLowerInvariant()),
        "title" => new(name, (_, _) => Title(s)),
        "capitalize" => new(name, (_, _) => Capitalize(s)),
        "replace" => new(name, (a, _) => Replace(s, RequireString(Arg(a, 0)), RequireString(Arg(a, 1)), a.Count > 2 ? JinjaOps.ToLong(a[2]) : -1)),
        "find" => new(name, (a, _) => (long)s.IndexOf(RequireString(Arg(a, 0)), StringComparison.Ordinal)),
        "rfind" => new(name, (a, _) => (long)s.LastIndexOf(RequireString(Arg(a, 0)), StringComparison.Ordinal)),
        "count" => new(name, (a, _) => CountOccurrences(s, RequireString(Arg(a, 0)))),
        "join" => new(name, (a, _) => JinjaFilters.JoinStrings(s, JinjaOps.Iterate(Arg(a, 0)).Select(x => x as string
            ?? throw new ChatTemplateException($"sequence item: expected str instance, {JinjaOps.TypeName(x)} found")))),
        "splitlines" => new(name, (_, _) => SplitLines(s)),
        "format" => new(name, (a, k) => JinjaFormat.Brace(s, a, k)),
        "isdigit" => new(name, (_, _) => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => new(name, (_, _) => s.Length > 0 && s.All(char.IsLetter)),
        "isspace" => new(name, (_, _) => s.Length > 0 && s.All(char.IsWhiteSpace)),
        "islower" => new(name, (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper)),
        "isupper" => new(name, (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower)),
        _ => null,
    };

    private static object? Arg(List<object?> args, int index) => index < args.Count ? args[index] : null;

    private static object? Kw(Dictionary<string, object?> kwargs, string name) => kwargs.GetValueOrDefault(name);

    private static long MaxSplit(List<object?> args, Dictionary<string, object?> kwargs)
    {
        object? value = args.Count > 1 ? args[1] : Kw(kwargs, "maxsplit");
        return value is null ? -1 : JinjaOps.ToLong(value);
    }

    private static string RequireString(object? value) => value as string
        ?? throw new ChatTemplateException($"expected a string argument, got '{JinjaOps.TypeName(value)}'");

    public static string Strip(string s, object? chars, bool left, bool right)
    {
        if (chars is null)
        {
            if (left)
                s = s.TrimStart();
            return right ? s.TrimEnd() : s;
        }

        char[] set = RequireString(chars).ToCharArray();
        if (left)
            s = s.TrimStart(set);
        return right ? s.TrimEnd(set) : s;
    }

    public static List<object?> Split(string s, object? separator, long maxSplit, bool fromRight)
    {
        var parts = new List<object?>();
        if (separator is null)
        {
            // Python: split on runs of whitespace, no empty strings.
            string[] words = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (maxSplit < 0 || words.Length <= maxSplit + 1)
                return [.. words];
            return SplitWhitespaceLimited(s, maxSplit, fromRight);
        }

        string sep = RequireString(separator);
        if (sep.Length == 0)
            throw new ChatTemplateException("empty separator");
        if (!fromRight)
        {
            int start = 0;
            while (maxSplit < 0 || parts.Count < maxSplit)
            {
                int at = s.IndexOf(sep, start, StringComparison.Ordinal);
                if (at < 0)
                    break;
                parts.Add(s[start..at]);
                start = at + sep.Length;
            }

            parts.Add(s[start..]);
            return parts;
        }

        int end = s.Length;
        var reversed = new List<object?>();
        while (maxSplit < 0 || reversed.Count < maxSplit)
        {
            int at = end - sep.Length < 0 ? -1 : s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
            if (at < 0 || at + sep.Length > end)
                break;
            reversed.Add(s[(at + sep.Length)..end]);
            end = at;
        }

        reversed.Add(s[..end]);
        reversed.Reverse();
        return reversed;
    }

    private static List<object?> SplitWhitespaceLimited(string s, long maxSplit, bool fromRight)
    {
        var parts = new List<object?>();
        if (!fromRight)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                    i++;
                if (i >= s.Length)
                    break;
                if (parts.Count == maxSplit)
                {
                    parts.Add(s[i..].TrimEnd());
                    break;
                }

                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                    i++;
                parts.Add(s[start..i]);
            }

            return parts;
        }

        int j = s.Length - 1;
        while (true)
        {
            while (j >= 0 && char.IsWhiteSpace(s[j]))
                j--;
            if (j < 0)
                break;
            if (parts.Count == maxSplit)
            {
                parts.Add(s[..(j + 1)].TrimStart());
                break;
            }

            int end = j + 1;
            while (j >= 0 && !char.IsWhiteSpace(s[j]))
                j--;
            parts.Add(s[(j + 1)..end]);
        }

        parts.Reverse();
        return parts;
    }

    private static bool Affix(string s, object? affix, bool start)
    {
        if (affix is List<object?> options)
            return options.Any(o => Affix(s, o, start));
        string text = RequireString(affix);
        return start ? s.StartsWith(text, StringComparison.Ordinal) : s.EndsWith(text, StringComparison.Ordinal);
    }

    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }

        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string Replace(string s, string old, string replacement, long count)
    {
        // The result's length first: replacing every character with a long string multiplies the length.
        long occurrences = CountOccurrences(s, old);
        if (count >= 0)
            occurrences = Math.Min(occurrences, count);
        JinjaBudget.Current.String(s.Length + (occurrences * (replacement.Length - (long)old.Length)));
        if (count < 0)
            return old.Length == 0 ? InsertEverywhere(s, replacement) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        int start = 0;
        for (long done = 0; done < count; done++)
        {
            int at = s.IndexOf(old, start, StringComparison.Ordinal);
            if (at < 0 || old.Length == 0)
                break;
            sb.Append(s, start, at - start).Append(replacement);
            start = at + old.Length;
        }

        return sb.Append(s, start, s.Length - start).ToString();
    }

    private static string InsertEverywhere(string s, string insert)
    {
        JinjaBudget.Current.String(s.Length + ((s.Length + 1L) * insert.Length));
        var sb = new StringBuilder(insert);
        foreach (object? c in JinjaOps.Characters(s))
            sb.Append((string)c!).Append(insert);
        return sb.ToString();
    }

    private static long CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
            return JinjaOps.CodePointCount(s) + 1;
        long n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal))
            n++;
        return n;
    }

    public static List<object?> SplitLines(string s)
    {
        var lines = new List<object?>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                lines.Add(s[start..i]);
                if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n')
                    i++;
                start = i + 1;
            }
        }

        if (start < s.Length)
            lines.Add(s[start..]);
        return lines;
    }
}
