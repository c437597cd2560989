namespace Fathom.Engine.Templates.Jinja;

// Runtime values are plain .NET objects with Python meanings:
// null = None, bool, long = int, double = float, string = str, List<object?> = list/tuple,
// Dictionary<string, object?> = dict (insertion-ordered, as Python's), plus the types below.

/// <summary>jinja2's default <c>Undefined</c>: falsy, renders empty, iterates empty; most other uses fail.</summary>
internal sealed class JinjaUndefined
{
    public JinjaUndefined(string hint)
    {
        Hint = hint;
    }

    /// <summary>The message jinja2 would raise when the value is used: "'x' is undefined".</summary>
    public string Hint { get; }

    public ChatTemplateException Error() => new(Hint);

    public static JinjaUndefined ForName(string name) => new($"'{name}' is undefined");

    public static JinjaUndefined ForAttribute(object? target, string name) =>
        new(target is null ? $"'None' has no attribute '{name}'" : $"'{JinjaOps.TypeName(target)} object' has no attribute '{name}'");
}

/// <summary>
/// What jinja2's lazy filters return (<c>map</c>, <c>select</c>, <c>reject</c>, <c>selectattr</c>, <c>rejectattr</c>,
/// <c>unique</c>, <c>items</c>: a Python generator; <c>reverse</c> of a list: a <c>list_reverseiterator</c>). It
/// iterates as its items, but unlike a list it is always true, has no length and is not JSON serializable, so a
/// template that forgets <c>| list</c> behaves as it does in Python (e.g. <c>tools | map(...) | tojson</c> fails).
/// </summary>
internal sealed class JinjaGenerator : List<object?>
{
    public JinjaGenerator(IEnumerable<object?> items, string kind = "generator")
        : base(items)
    {
        Kind = kind;
    }

    /// <summary>Python's type name: <c>generator</c> or <c>list_reverseiterator</c>.</summary>
    public string Kind { get; }
}

/// <summary>
/// A Python tuple (tuple literals, <c>items()</c> pairs, <c>dictsort</c> pairs, a macro's <c>varargs</c>): a list
/// that prints with parentheses.
/// </summary>
internal sealed class JinjaTuple : List<object?>
{
    public JinjaTuple(IEnumerable<object?> items)
        : base(items)
    {
    }

    public static JinjaTuple Pair(object? first, object? second) => new([first, second]);
}

/// <summary>The object made by <c>namespace(...)</c>: attributes can be assigned from inner scopes.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>A callable value: a global function, a macro, or a bound method of a value.</summary>
internal sealed class JinjaCallable
{
    public JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
    {
        Name = name;
        Invoke = invoke;
    }

    public string Name { get; }

    public Func<List<object?>, Dictionary<string, object?>, object?> Invoke { get; }
}

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class JinjaLoop
{
    private readonly List<object?> _items;

    public JinjaLoop(List<object?> items, int depth0)
    {
        _items = items;
        Depth0 = depth0;
    }

    public int Index0 { get; set; }

    public int Depth0 { get; }

    public object? Get(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(_items.Count - Index0),
        "revindex0" => (long)(_items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == _items.Count - 1,
        "length" => (long)_items.Count,
        "depth" => (long)(Depth0 + 1),
        "depth0" => (long)Depth0,
        "previtem" => Index0 > 0 ? _items[Index0 - 1] : new JinjaUndefined("there is no previous item"),
        "nextitem" => Index0 < _items.Count - 1 ? _items[Index0 + 1] : new JinjaUndefined("there is no next item"),
        "cycle" => new JinjaCallable("cycle", (args, _) =>
            args.Count == 0 ? throw new ChatTemplateException("no items for cycling given") : args[Index0 % args.Count]),
        _ => JinjaUndefined.ForAttribute(this, name),
    };
}

/// <summary>
/// jinja2's <c>Markup</c> (made by <c>|safe</c> and <c>|escape</c>): a string that HTML-escapes whatever plain text is
/// added to it with <c>+</c>. Everywhere else it behaves as its text.
/// </summary>
internal sealed class JinjaMarkup(string text)
{
    public string Text { get; } = text;

    public static object? Unwrap(object? value) => value is JinjaMarkup markup ? markup.Text : value;

    public static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);
}
