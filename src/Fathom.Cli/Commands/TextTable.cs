namespace Fathom.Cli.Commands;

/// <summary>
/// A plain-text table, readable in any terminal and in logs. The first column and any header starting with
/// '&lt;' are left-aligned (the '&lt;' is not printed); the rest, numbers, are right-aligned.
/// </summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TextTable Add(params string[] cells)
    {
        _rows.Add(cells);
        return this;
    }

    public void WriteTo(TextWriter writer)
    {
        var left = headers.Select((h, i) => i == 0 || h.StartsWith('<')).ToArray();
        var names = headers.Select(h => h.TrimStart('<')).ToArray();
        var widths = names.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        string Format(string[] cells) => string.Join("  ", cells.Select((c, i) => left[i] ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
        writer.WriteLine(Format(names));
        writer.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            writer.WriteLine(Format(row));
        }
    }
}
