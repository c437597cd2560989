using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>Python's printf-style <c>"%s" % value</c> for the conversions templates use (%s %r %d %i %f %%).</summary>
internal static class JinjaFormat
{
    public static string Percent(string format, object? args)
    {
        List<object?> values = args is List<object?> tuple ? tuple : [args];
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
}
