using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>Python semantics for runtime values: truth, str/repr, equality, ordering, arithmetic.</summary>
internal static partial class JinjaOps
{
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        JinjaGenerator g => g.Kind,
        JinjaTuple => "tuple",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        JinjaUndefined => "Undefined",
        JinjaNamespace => "Namespace",
        JinjaCallable => "function",
        JinjaLoop => "LoopContext",
        _ => value.GetType().Name,
    };

    public static bool IsTruthy(object? value) => value switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        JinjaMarkup markup => markup.Text.Length > 0,
        JinjaGenerator => true,
        List<object?> list => list.Count > 0,
        Dictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static bool PyEquals(object? a, object? b) => PyEquals(a, b, 0, JinjaBudget.Current);

    // Containers compare item by item, so a value that holds itself recurses without end: depth-checked.
    private static bool PyEquals(object? a, object? b, int depth, JinjaBudget budget)
    {
        if (a is JinjaUndefined || b is JinjaUndefined)
            return a is JinjaUndefined && b is JinjaUndefined;
        if (a is null || b is null)
            return a is null && b is null;
        if (IsNumber(a) && IsNumber(b))
            return (a is double || b is double) ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        if (a is string sa && b is string sb)
        {
            budget.Charge(Math.Min(sa.Length, sb.Length));
            return string.Equals(sa, sb, StringComparison.Ordinal);
        }

        if (a is List<object?> la && b is List<object?> lb)
        {
            if (la.Count != lb.Count)
                return false;
            budget.Depth(depth + 1);
            budget.Step(); // a step per container: lists that share items can be exponentially larger than they look
            budget.Charge(la.Count);
            for (int i = 0; i < la.Count; i++)
            {
                if (!PyEquals(la[i], lb[i], depth + 1, budget))
                    return false;
            }

            return true;
        }

        if (a is Dictionary<string, object?> da && b is Dictionary<string, object?> db)
        {
            if (da.Count != db.Count)
                return false;
            budget.Depth(depth + 1);
            budget.Step();
            budget.Charge(da.Count);
            foreach (KeyValuePair<string, object?> pair in da)
            {
                if (!db.TryGetValue(pair.Key, out object? other) || !PyEquals(pair.Value, other, depth + 1, budget))
                    return false;
            }

            return true;
        }

        return ReferenceEquals(a, b);
    }

    /// <summary>Python ordering (<c>&lt;</c> etc.) for numbers, strings and lists; anything else is a TypeError.</summary>
    public static int Compare(object? a, object? b, string op) => Compare(a, b, op, 0, JinjaBudget.Current);

    private static int Compare(object? a, object? b, string op, int depth, JinjaBudget budget)
    {
        if (IsNumber(a) && IsNumber(b))
            return (a is double || b is double) ? ToDouble(a).CompareTo(ToDouble(b)) : ToLong(a).CompareTo(ToLong(b));
        if (a is string sa && b is string sb)
        {
            budget.Charge(Math.Min(sa.Length, sb.Length));
            return Math.Sign(string.CompareOrdinal(sa, sb));
        }

        if (a is List<object?> la && b is List<object?> lb)
        {
            budget.Depth(depth + 1);
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (!PyEquals(la[i], lb[i], depth + 1, budget))
                    return Compare(la[i], lb[i], op, depth + 1, budget);
            }

            return la.Count.CompareTo(lb.Count);
        }

        if (a is JinjaUndefined ua)
            throw ua.Error();
        if (b is JinjaUndefined ub)
            throw ub.Error();
        throw new ChatTemplateException($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static long ToLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw new ChatTemplateException($"expected a number, got '{TypeName(value)}'"),
    };

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => d,
        _ => throw new ChatTemplateException($"expected a number, got '{TypeName(value)}'"),
    };

    /// <summary>The items a for loop (or a filter) walks: list items, dict keys, string characters.</summary>
    public static List<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        Dictionary<string, object?> dict => [.. dict.Keys],
        string s => Characters(s),
        JinjaUndefined => [],
        _ => throw new ChatTemplateException($"'{TypeName(value)}' object is not iterable"),
    };

    /// <summary>A string's characters as Python sees them (code points, so a surrogate pair is one).</summary>
    public static List<object?> Characters(string s)
    {
        JinjaBudget.Current.List(s.Length);
        var chars = new List<object?>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                chars.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                chars.Add(s[i].ToString());
            }
        }

        return chars;
    }

    public static long Length(object? value) => value switch
    {
        string s => CodePointCount(s),
        JinjaGenerator => throw new ChatTemplateException($"object of type '{TypeName(value)}' has no len()"),
        List<object?> list => list.Count,
        Dictionary<string, object?> dict => dict.Count,
        JinjaUndefined => 0,
        _ => throw new ChatTemplateException($"object of type '{TypeName(value)}' has no len()"),
    };

    public static int CodePointCount(string s)
    {
        JinjaBudget.Current.Charge(s.Length);
        // One code point per char, less one per low surrogate; the search is vectorised, and surrogates are rare.
        int n = s.Length;
        ReadOnlySpan<char> rest = s;
        for (int at = rest.IndexOfAnyInRange('\uDC00', '\uDFFF'); at >= 0; at = rest.IndexOfAnyInRange('\uDC00', '\uDFFF'))
        {
            n--;
            rest = rest[(at + 1)..];
        }

        return n;
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => ChargeScan(s.Length) && s.Contains(sub, StringComparison.Ordinal),
        string => throw new ChatTemplateException($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        List<object?> list => ChargeScan(list.Count) && list.Exists(x => PyEquals(x, item)),
        Dictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        JinjaUndefined => false,
        _ => throw new ChatTemplateException($"argument of type '{TypeName(container)}' is not iterable"),
    };

    private static bool ChargeScan(long units)
    {
        JinjaBudget.Current.Charge(units);
        return true;
    }

    public static object? Binary(string op, object? a, object? b)
    {
        if (a is JinjaMarkup || b is JinjaMarkup)
        {
            if (op == "+" && a is JinjaMarkup or string && b is JinjaMarkup or string)
                return new JinjaMarkup(Concat(EscapedText(a), EscapedText(b)));
            a = JinjaMarkup.Unwrap(a);
            b = JinjaMarkup.Unwrap(b);
        }

        if (a is JinjaUndefined ua)
            throw ua.Error();
        if (b is JinjaUndefined ub)
            throw ub.Error();
        if (a is not null && b is not null && IsNumber(a) && IsNumber(b))
            return Arithmetic(op, a, b);
        switch (op)
        {
            case "+" when a is string sa && b is string sb:
                return Concat(sa, sb);
            case "+" when a is List<object?> la && b is List<object?> lb:
                JinjaBudget.Current.List((long)la.Count + lb.Count);
                return (List<object?>)[.. la, .. lb];
            case "*" when a is List<object?> list && b is long or bool:
                return RepeatList(list, ToLong(b));
            case "*" when b is List<object?> list && a is long or bool:
                return RepeatList(list, ToLong(a));
            case "*" when a is string s && b is long or bool:
                return Repeat(s, ToLong(b));
            case "*" when b is string s && a is long or bool:
                return Repeat(s, ToLong(a));
            case "%" when a is string format:
                return JinjaFormat.Percent(format, b);
        }

        if (op == "+" && a is string)
            throw new ChatTemplateException($"can only concatenate str (not \"{TypeName(b)}\") to str");
        throw new ChatTemplateException($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static string EscapedText(object? value) => value is JinjaMarkup markup ? markup.Text : JinjaMarkup.Escape((string)value!);

    /// <summary><c>a + b</c> for strings, held to the string length limit.</summary>
    public static string Concat(string a, string b)
    {
        JinjaBudget.Current.String((long)a.Length + b.Length);
        return string.Concat(a, b);
    }

    // The result's size is checked before anything is allocated: 'x' * 10**9 must fail, not exhaust memory.
    private static string Repeat(string s, long count)
    {
        if (count <= 0 || s.Length == 0)
            return "";
        JinjaBudget.Current.String(count > int.MaxValue ? long.MaxValue : s.Length * count);
        return string.Create(s.Length * (int)count, s, static (span, unit) =>
        {
            // Doubling copies: log2(count) block copies instead of count small ones.
            unit.AsSpan().CopyTo(span);
            for (int filled = unit.Length; filled < span.Length; filled *= 2)
                span[..Math.Min(filled, span.Length - filled)].CopyTo(span[filled..]);
        });
    }

    private static List<object?> RepeatList(List<object?> list, long count)
    {
        if (count <= 0 || list.Count == 0)
            return [];
        JinjaBudget.Current.List(count > int.MaxValue ? long.MaxValue : list.Count * count);
        var result = new List<object?>(list.Count * (int)count);
        for (long i = 0; i < count; i++)
            result.AddRange(list);
        return result;
    }

    /// <summary>Python's float <c>%</c> and <c>//</c> (fmod-based, sign of the divisor).</summary>
    private static (double Div, double Mod) FloatDivMod(double x, double y)
    {
        if (y == 0)
            throw new ChatTemplateException("float modulo");
        double mod = x % y;
        double div = (x - mod) / y;
        if (mod != 0)
        {
            if ((y < 0) != (mod < 0))
            {
                mod += y;
                div -= 1.0;
            }
        }
        else
        {
            mod = y < 0 ? -0.0 : 0.0;
        }

        double floorDiv;
        if (div != 0)
        {
            floorDiv = Math.Floor(div);
            if (div - floorDiv > 0.5)
                floorDiv += 1.0;
        }
        else
        {
            floorDiv = x / y < 0 ? -0.0 : 0.0;
        }

        return (floorDiv, mod);
    }

    private static object Arithmetic(string op, object a, object b)
    {
        bool floating = a is double || b is double;
        switch (op)
        {
            case "/":
                double divisor = ToDouble(b);
                if (divisor == 0)
                    throw new ChatTemplateException("division by zero");
                return ToDouble(a) / divisor;
            case "**":
                if (!floating && ToLong(b) >= 0)
                    return (long)Math.Pow(ToLong(a), ToLong(b));
                return Math.Pow(ToDouble(a), ToDouble(b));
        }

        if (floating)
        {
            double x = ToDouble(a);
            double y = ToDouble(b);
            return op switch
            {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "//" => FloatDivMod(x, y).Div,
                "%" => FloatDivMod(x, y).Mod,
                _ => throw new ChatTemplateException($"unsupported operator {op}"),
            };
        }

        long p = ToLong(a);
        long q = ToLong(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "//" => q == 0 ? throw new ChatTemplateException("integer division or modulo by zero") : FloorDiv(p, q),
            "%" => q == 0 ? throw new ChatTemplateException("integer division or modulo by zero") : p - (q * FloorDiv(p, q)),
            _ => throw new ChatTemplateException($"unsupported operator {op}"),
        };
    }

    private static long FloorDiv(long p, long q)
    {
        // long.MinValue / -1 overflows (and throws in .NET); Python's ints would not, two's complement wraps.
        if (q == -1)
            return unchecked(-p);
        long d = p / q;
        return (p % q != 0 && (p < 0) != (q < 0)) ? d - 1 : d;
    }
}
