using System.Globalization;
using System.Text;

namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// Python's <c>json.dumps</c>, as transformers' <c>tojson</c> filter calls it (<c>ensure_ascii=False</c>,
/// keys in insertion order unless <c>sort_keys</c>; separators <c>", "</c>/<c>": "</c>, or <c>","</c>/<c>": "</c>
/// with an indent).
/// </summary>
internal static class PythonJson
{
    public static string Dumps(object? value, int? indent = null, string? itemSeparator = null, string? keySeparator = null,
        bool sortKeys = false, bool ensureAscii = false)
    {
        var writer = new Writer(indent, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ", sortKeys, ensureAscii);
        writer.Write(value, 0);
        string json = writer.Result;
        JinjaBudget.Current.Charge(json.Length);
        return json;
    }

    private sealed class Writer(int? indent, string itemSeparator, string keySeparator, bool sortKeys, bool ensureAscii)
    {
        private readonly StringBuilder _sb = new();

        public string Result => _sb.ToString();

        // Depth-checked: a dict that holds itself would recurse without end. The length check keeps the builder
        // within the string limit as it grows.
        public void Write(object? value, int depth)
        {
            JinjaBudget budget = JinjaBudget.Current;
            budget.Depth(depth);
            budget.Growing(_sb.Length);
            switch (value)
            {
                case null:
                    _sb.Append("null");
                    break;
                case bool b:
                    _sb.Append(b ? "true" : "false");
                    break;
                case long l:
                    _sb.Append(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    _sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : JinjaOps.FormatFloat(d));
                    break;
                case string s:
                    WriteString(s);
                    break;
                case JinjaMarkup markup:
                    WriteString(markup.Text);
                    break;
                case JinjaGenerator generator:
                    throw new ChatTemplateException($"Object of type {generator.Kind} is not JSON serializable");
                case List<object?> list:
                    if (list.Count == 0)
                    {
                        _sb.Append("[]");
                        break;
                    }

                    _sb.Append('[');
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (i > 0)
                            _sb.Append(itemSeparator);
                        NewLine(depth + 1);
                        Write(list[i], depth + 1);
                    }

                    NewLine(depth);
                    _sb.Append(']');
                    break;
                case Dictionary<string, object?> dict:
                    if (dict.Count == 0)
                    {
                        _sb.Append("{}");
                        break;
                    }

                    _sb.Append('{');
                    IEnumerable<KeyValuePair<string, object?>> pairs = sortKeys
                        ? dict.OrderBy(p => p.Key, StringComparer.Ordinal)
                        : dict;
                    bool first = true;
                    foreach (KeyValuePair<string, object?> pair in pairs)
                    {
                        if (!first)
                            _sb.Append(itemSeparator);
                        first = false;
                        NewLine(depth + 1);
                        WriteString(pair.Key);
                        _sb.Append(keySeparator);
                        Write(pair.Value, depth + 1);
                    }

                    NewLine(depth);
                    _sb.Append('}');
                    break;
                case JinjaUndefined undefined:
                    throw new ChatTemplateException($"Object of type Undefined is not JSON serializable ({undefined.Hint})");
                default:
                    throw new ChatTemplateException($"Object of type {JinjaOps.TypeName(value)} is not JSON serializable");
            }
        }

        private void NewLine(int depth)
        {
            if (indent is int n)
            {
                long spaces = (long)n * depth;
                JinjaBudget.Current.Growing(_sb.Length + spaces);
                _sb.Append('\n').Append(' ', (int)spaces);
            }
        }

        private void WriteString(string s)
        {
            _sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': _sb.Append("\\\""); break;
                    case '\\': _sb.Append("\\\\"); break;
                    case '\n': _sb.Append("\\n"); break;
                    case '\r': _sb.Append("\\r"); break;
                    case '\t': _sb.Append("\\t"); break;
                    case '\b': _sb.Append("\\b"); break;
                    case '\f': _sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (ensureAscii && c > 0x7f))
                            _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            _sb.Append(c);
                        break;
                }
            }

            _sb.Append('"');
        }
    }
}
