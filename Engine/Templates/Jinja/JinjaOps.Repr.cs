using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>Python's <c>str</c> and <c>repr</c> of runtime values, as jinja2 prints them.</summary>
internal static partial class JinjaOps
{
    /// <summary>Python's <c>str(value)</c>, except Undefined renders empty as jinja2 does.</summary>
    public static string ToStr(object? value) => value switch
    {
        string s => s,
        JinjaUndefined => "",
        JinjaMarkup markup => markup.Text,
        _ => Repr(value),
    };

    /// <summary>Python's <c>repr(value)</c>.</summary>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        JinjaBudget budget = JinjaBudget.Current;
        AppendRepr(sb, value, 0, budget);
        budget.Charge(sb.Length);
        return sb.ToString();
    }

    // A container that holds itself (a namespace assigned into its own attribute) is infinitely deep: the depth
    // limit stops it, and the length check stops wide values before the builder outgrows the string limit.
    private static void AppendRepr(StringBuilder sb, object? value, int depth, JinjaBudget budget)
    {
        budget.Growing(sb.Length);
        switch (value)
        {
            case null:
                sb.Append("None");
                break;
            case bool b:
                sb.Append(b ? "True" : "False");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(FormatFloat(d));
                break;
            case string s:
                AppendStringRepr(sb, s);
                break;
            case JinjaMarkup markup:
                sb.Append("Markup(");
                AppendStringRepr(sb, markup.Text);
                sb.Append(')');
                break;
            case List<object?> list:
                budget.Depth(depth + 1);
                bool tuple = list is JinjaTuple;
                sb.Append(tuple ? '(' : '[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                        sb.Append(", ");
                    AppendRepr(sb, list[i], depth + 1, budget);
                }

                sb.Append(tuple ? (list.Count == 1 ? ",)" : ")") : "]");
                break;
            case Dictionary<string, object?> dict:
                budget.Depth(depth + 1);
                sb.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object?> pair in dict)
                {
                    if (!first)
                        sb.Append(", ");
                    first = false;
                    AppendStringRepr(sb, pair.Key);
                    sb.Append(": ");
                    AppendRepr(sb, pair.Value, depth + 1, budget);
                }

                sb.Append('}');
                break;
            case JinjaUndefined:
                break;
            case JinjaNamespace ns:
                sb.Append("<Namespace ");
                AppendRepr(sb, ns.Attributes, depth + 1, budget);
                sb.Append('>');
                break;
            case JinjaCallable callable:
                sb.Append("<function ").Append(callable.Name).Append('>');
                break;
            default:
                sb.Append(value);
                break;
        }
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote)
                        sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f)
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }

        sb.Append(quote);
        JinjaBudget.Current.Growing(sb.Length);
    }

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, exponent form below 1e-4 or from 1e16.</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
            return "nan";
        if (double.IsInfinity(d))
            return d > 0 ? "inf" : "-inf";
        if (d == 0)
            return double.IsNegative(d) ? "-0.0" : "0.0";
        string shortest = d.ToString("R", CultureInfo.InvariantCulture);
        // Digits and decimal exponent of the shortest representation.
        bool negative = shortest.StartsWith('-');
        string body = negative ? shortest[1..] : shortest;
        int exponent = 0;
        int e = body.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(body[(e + 1)..], CultureInfo.InvariantCulture);
            body = body[..e];
        }

        int dot = body.IndexOf('.', StringComparison.Ordinal);
        string digits = dot >= 0 ? body.Remove(dot, 1) : body;
        int pointPos = (dot >= 0 ? dot : body.Length) + exponent;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
            pointPos--;
        }

        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0)
            digits = "0";
        int sciExponent = pointPos - 1;
        var sb = new StringBuilder();
        if (negative)
            sb.Append('-');
        if (sciExponent < -4 || sciExponent >= 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(sciExponent < 0 ? '-' : '+').Append(Math.Abs(sciExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (pointPos <= 0)
        {
            sb.Append("0.").Append('0', -pointPos).Append(digits);
        }
        else if (pointPos >= digits.Length)
        {
            sb.Append(digits).Append('0', pointPos - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, pointPos).Append('.').Append(digits, pointPos, digits.Length - pointPos);
        }

        return sb.ToString();
    }
}
