using System.Text.Json;

namespace Fathom.Engine.Constraints;

/// <summary>
/// Integers and numbers with minimum/maximum/exclusiveMinimum/exclusiveMaximum. Integer bounds are exact. Number bounds
/// are exact for integer-valued numbers; a number with a fraction is generated only when its whole integer unit lies
/// inside the bounds (so with maximum 4.5, 4.2 is not generated, though it is valid): a sound subset, never an invalid value.
/// </summary>
internal static class JsonNumbers
{
    public static GrammarNode Integer(JsonElement schema, string path)
    {
        var (low, high) = IntegerBounds(schema, path);
        if (low is null && high is null)
        {
            return JsonGrammars.AnyInteger;
        }

        return IntegerRange.Signed(low, high) ?? throw Empty(path);
    }

    public static GrammarNode Number(JsonElement schema, string path)
    {
        decimal? minimum = Bound(schema, "minimum", path);
        decimal? maximum = Bound(schema, "maximum", path);
        decimal? exclusiveMinimum = Bound(schema, "exclusiveMinimum", path);
        decimal? exclusiveMaximum = Bound(schema, "exclusiveMaximum", path);
        if (minimum is null && maximum is null && exclusiveMinimum is null && exclusiveMaximum is null)
        {
            return JsonGrammars.AnyNumber;
        }

        var alternatives = new List<GrammarNode>();
        var (low, high) = IntegerBounds(schema, path);
        if (IntegerRange.Signed(low, high) is { } integers)
        {
            alternatives.Add(integers);
        }

        // The tightest raw bounds; with a fraction a value is strictly inside its unit, so exclusivity does not matter.
        decimal? lo = Max(minimum, exclusiveMinimum);
        decimal? hi = Min(maximum, exclusiveMaximum);

        // Positive fractions I.f with I >= lo and I + 1 <= hi.
        long? positiveLow = lo is { } l ? Clamp(Math.Max(0, decimal.Ceiling(l))) : 0;
        long? positiveHigh = hi is { } h ? Clamp(decimal.Floor(h) - 1) : null;
        if (positiveLow is { } pl && (positiveHigh is null || positiveHigh >= pl) && pl <= IntegerRange.Limit
            && IntegerRange.Unsigned(pl, positiveHigh) is { } positive)
        {
            alternatives.Add(G.Seq(positive, JsonGrammars.NonZeroFraction));
        }

        // Negative fractions -(I.f) with -(I + 1) >= lo and -I <= hi.
        long? negativeLow = hi is { } h2 ? Clamp(Math.Max(0, decimal.Ceiling(-h2))) : 0;
        long? negativeHigh = lo is { } l2 ? Clamp(decimal.Floor(-l2) - 1) : null;
        if (negativeLow is { } nl && (negativeHigh is null || negativeHigh >= nl) && nl <= IntegerRange.Limit
            && IntegerRange.Unsigned(nl, negativeHigh) is { } negative)
        {
            alternatives.Add(G.Seq(G.Lit("-"), negative, JsonGrammars.NonZeroFraction));
        }

        return alternatives.Count == 0 ? throw Empty(path) : G.Alt([.. alternatives]);
    }

    private static UnsupportedSchemaException Empty(string path) =>
        new("minimum", path, "the bounds leave no value (or none within 18 digits)");

    // The integer range the bounds allow, open sides null; bounds beyond 18 digits are treated as open.
    private static (long? Low, long? High) IntegerBounds(JsonElement schema, string path)
    {
        decimal? low = Max(Bound(schema, "minimum", path) is { } m ? decimal.Ceiling(m) : null,
            Bound(schema, "exclusiveMinimum", path) is { } em ? decimal.Floor(em) + 1 : null);
        decimal? high = Min(Bound(schema, "maximum", path) is { } x ? decimal.Floor(x) : null,
            Bound(schema, "exclusiveMaximum", path) is { } ex ? decimal.Ceiling(ex) - 1 : null);
        if (low > IntegerRange.Limit || high < -IntegerRange.Limit)
        {
            throw Empty(path);
        }

        return (low is { } lv && lv >= -IntegerRange.Limit ? (long)lv : null, high is { } hv && hv <= IntegerRange.Limit ? (long)hv : null);
    }

    private static long? Clamp(decimal value) =>
        value > IntegerRange.Limit ? IntegerRange.Limit : value < -1 ? -1 : (long)value;

    private static decimal? Bound(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new UnsupportedSchemaException(keyword, path, $"{keyword} must be a number (the draft-4 boolean form is not supported)");
        }

        if (value.TryGetDecimal(out decimal d))
        {
            return d;
        }

        // Beyond decimal's range: as good as unbounded for 18-digit values.
        return value.GetDouble() > 0 ? decimal.MaxValue / 10 : decimal.MinValue / 10;
    }

    private static decimal? Max(decimal? a, decimal? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static decimal? Min(decimal? a, decimal? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
