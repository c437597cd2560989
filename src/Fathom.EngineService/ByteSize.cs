using System.Globalization;

namespace Fathom.EngineService;

/// <summary>Parses sizes such as <c>512MiB</c>, <c>4GiB</c>, <c>2G</c> or a plain byte count.</summary>
internal static class ByteSize
{
    public static long Parse(string text)
    {
        string s = text.Trim();
        int split = s.Length;
        while (split > 0 && char.IsLetter(s[split - 1]))
        {
            split--;
        }

        long multiplier = s[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => throw new FormatException($"'{text}' is not a size (use e.g. 512MiB or 4GiB)."),
        };
        if (!double.TryParse(s[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0)
        {
            throw new FormatException($"'{text}' is not a positive size (use e.g. 512MiB or 4GiB).");
        }

        return checked((long)(value * multiplier));
    }
}
