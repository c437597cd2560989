namespace Fathom.Engine.Templates.Jinja;

/// <summary>
/// Variables visible at a point of the template. As in jinja2, a for-loop iteration and a macro call open a scope
/// whose assignments do not leak out (hence <c>namespace()</c>); <c>if</c> blocks share their enclosing scope.
/// </summary>
internal sealed class JinjaScope
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);
    private readonly JinjaScope? _parent;

    public JinjaScope(JinjaScope? parent)
    {
        _parent = parent;
    }

    public bool TryGet(string name, out object? value)
    {
        for (JinjaScope? scope = this; scope is not null; scope = scope._parent)
        {
            if (scope._variables.TryGetValue(name, out value))
                return true;
        }

        value = null;
        return false;
    }

    public void Set(string name, object? value) => _variables[name] = value;
}
