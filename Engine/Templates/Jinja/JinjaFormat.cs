using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>Python's printf-style <c>"%s" % value</c> for the conversions templates use (%s %r %d %i %f %%).</summary>
internal static class JinjaFormat
{
    public static string Percent(string format, object? args)
    {
        // Only a tuple spreads into the conversions; a list is one value, as in Python.
        List<object?> values = args is JinjaTuple tuple ? tuple : [args];
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }

            if (++i >= format.Length)
                throw new ChatTemplateException("incomplete format");
            char conversion = format[i];
            if (conversion == '%')
            {
                sb.Append('%');
                continue;
            }

            if (next >= values.Count)
                throw new ChatTemplateException("not enough arguments for format string");
            object? value = values[next++];
            sb.Append(conversion switch
            {
                's' => JinjaOps.ToStr(value),
                'r' => JinjaOps.Repr(value),
                'd' or 'i' => JinjaOps.ToLong(value).ToString(CultureInfo.InvariantCulture),
                'f' => JinjaOps.ToDouble(value).ToString("F6", CultureInfo.InvariantCulture),
                _ => throw new ChatTemplateException($"unsupported format character '{conversion}'"),
            });
            JinjaBudget.Current.Growing(sb.Length);
        }

        if (next < values.Count)
            throw new ChatTemplateException("not all arguments converted during string formatting");
        JinjaBudget.Current.String(sb.Length);
        return sb.ToString();
    }

    /// <summary>
    /// Python's <c>str.format</c> for plain fields: <c>{}</c> (automatic numbering), <c>{0}</c>, <c>{name}</c> and
    /// <c>{{</c>/<c>}}</c>; a conversion or format spec (<c>{!r}</c>, <c>{:>5}</c>) is refused rather than guessed.
    /// </summary>
    public static string Brace(string format, List<object?> args, Dictionary<string, object?> kwargs)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}')
                {
                    sb.Append('}');
                    i++;
                    continue;
                }

                throw new ChatTemplateException("Single '}' encountered in format string");
            }

            if (c != '{')
            {
                sb.Append(c);
                continue;
            }

            if (i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i++;
                continue;
            }

            int close = format.IndexOf('}', i + 1);
            if (close < 0)
                throw new ChatTemplateException("expected '}' before end of string");
            string field = format[(i + 1)..close];
            if (field.AsSpan().IndexOfAny("!:[.{") >= 0)
                throw new ChatTemplateException($"format field '{{{field}}}' is not supported (only {{}}, {{n}} and {{name}})");
            object? value;
            if (field.Length == 0)
            {
                value = auto < args.Count ? args[auto] : throw new ChatTemplateException($"Replacement index {auto} out of range for positional args tuple");
                auto++;
            }
            else if (int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                value = index < args.Count ? args[index] : throw new ChatTemplateException($"Replacement index {index} out of range for positional args tuple");
            }
            else
            {
                value = kwargs.TryGetValue(field, out object? named) ? named : throw new ChatTemplateException($"'{field}'");
            }

            string text = JinjaOps.ToStr(value);
            JinjaBudget.Current.String((long)sb.Length + text.Length);
            sb.Append(text);
            i = close;
        }

        return sb.ToString();
    }
}
