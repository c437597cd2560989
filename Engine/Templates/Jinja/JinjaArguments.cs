namespace Fathom.Engine.Templates.Jinja;

/// <summary>Positional and keyword arguments of a filter, test or function call.</summary>
internal readonly record struct JinjaArguments(List<object?> Positional, Dictionary<string, object?> Keywords)
{
    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        if (index < Positional.Count)
            return Positional[index];
        return Keywords.TryGetValue(name, out object? value) ? value : fallback;
    }

    public bool Has(int index, string name) => index < Positional.Count || Keywords.ContainsKey(name);
}
