namespace Fathom.Engine.Constraints;

/// <summary>A set of Unicode code points as sorted, disjoint, non-adjacent ranges: a regex character class.</summary>
internal sealed class CodePointSet
{
    public const int MaxCodePoint = 0x10FFFF;

    private CodePointSet(List<(int Low, int High)> ranges) => Ranges = ranges;

    public IReadOnlyList<(int Low, int High)> Ranges { get; }

    public static CodePointSet Of(IEnumerable<(int Low, int High)> ranges)
    {
        var sorted = ranges.Where(r => r.Low <= r.High).OrderBy(r => r.Low).ToList();
        var merged = new List<(int, int)>();
        foreach (var (low, high) in sorted)
        {
            if (merged.Count > 0 && low <= merged[^1].Item2 + 1)
            {
                merged[^1] = (merged[^1].Item1, Math.Max(merged[^1].Item2, high));
            }
            else
            {
                merged.Add((low, high));
            }
        }

        return new CodePointSet(merged);
    }

    public static CodePointSet Single(int codePoint) => Of([(codePoint, codePoint)]);

    public CodePointSet Union(CodePointSet other) => Of(Ranges.Concat(other.Ranges));

    public CodePointSet Complement()
    {
        var result = new List<(int, int)>();
        int next = 0;
        foreach (var (low, high) in Ranges)
        {
            if (low > next)
            {
                result.Add((next, low - 1));
            }

            next = high + 1;
        }

        if (next <= MaxCodePoint)
        {
            result.Add((next, MaxCodePoint));
        }

        return new CodePointSet(result);
    }

    public CodePointSet Intersect(int low, int high) =>
        Of(Ranges.Select(r => (Math.Max(r.Low, low), Math.Min(r.High, high))));
}
