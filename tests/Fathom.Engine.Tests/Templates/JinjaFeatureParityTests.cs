using System.Text.Json;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Jinja;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Jinja features real chat templates use, each rendered by Fathom and by Python's jinja2 (transformers' setup, see
/// <see cref="Jinja2Reference"/>): call blocks with <c>caller()</c> and caller arguments, <c>*args</c>/<c>**kwargs</c>
/// in calls, <c>varargs</c>/<c>kwargs</c> in macros, and the lazy filters whose results are generators. Outputs must
/// be equal; where jinja2 fails, Fathom must fail too.
/// </summary>
public sealed class JinjaFeatureParityTests
{
    private static readonly DateTime Now = new(2026, 12, 7, 9, 5, 7);

    [Theory]
    [InlineData("{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1, 3, 4, 5, x=6, y='z') }}|{{ m(1) }}", "{}")]
    [InlineData("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ name }}{% endcall %}", """{"name": "Ann"}""")]
    [InlineData("{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, n) each(xs) %}[{{ n }}:{{ item }}]{% endcall %}", """{"xs": ["a", "b", "c"]}""")]
    [InlineData("{% macro m(title) %}{{ title }}:{{ caller() }}|{{ kwargs }}{% endmacro %}{% call m('T', extra=1) %}body{% endcall %}", "{}")]
    [InlineData("{% macro outer() %}({{ caller() }}){% endmacro %}{% macro inner() %}[{{ caller() }}]{% endmacro %}{% call outer() %}{% call inner() %}x{% endcall %}{% endcall %}", "{}")]
    [InlineData("{% macro c(x, y=1) %}{{ x }}{{ y }}{% endmacro %}{% macro m() %}{{ caller('a') }}{% endmacro %}{% call(x, y='d') m() %}{{ x }}{{ y }}{% endcall %}", "{}")]
    [InlineData("{% macro f(a, b, c) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ f(*xs) }}|{{ f(1, *[2, 3]) }}|{{ f(**d) }}|{{ f(1, **{'c': 3, 'b': 2}) }}|{{ f(1, c=3, *[2]) }}", """{"xs": [1, 2, 3], "d": {"a": "x", "b": "y", "c": "z"}}""")]
    [InlineData("{{ dict(z=1, **d) | tojson }}|{{ namespace(**d).a }}|{{ range(*r) | list }}|{{ '{}-{}'.format(*xs) }}", """{"d": {"a": 1}, "r": [1, 7, 2], "xs": ["p", "q"]}""")]
    [InlineData("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", "{}")]
    [InlineData("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}", "{}")]
    [InlineData("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, a=2) }}", "{}")]
    [InlineData("{% macro m() %}x{% endmacro %}{% call m() %}y{% endcall %}", "{}")]
    [InlineData("{% macro m() %}{{ caller() }}{% endmacro %}{{ m() }}", "{}")]
    [InlineData("{% macro f(a) %}{{ a }}{% endmacro %}{{ f(**xs) }}", """{"xs": [1]}""")]
    [InlineData("{{ xs | map('upper') | tojson }}", """{"xs": ["a"]}""")]
    [InlineData("{{ xs | select | length }}", """{"xs": [0, 1]}""")]
    [InlineData("{{ 'yes' if xs | select else 'no' }}|{{ xs | reject | list }}|{{ xs | reverse | list }}|{{ d | items | list }}|{{ xs | unique | list }}|{{ (xs | map('string') | join(',')) }}", """{"xs": [0, 0, 1], "d": {"k": "v"}}""")]
    [InlineData("{{ xs | reverse | tojson }}", """{"xs": [1, 2]}""")]
    [InlineData("{{ (xs | selectattr('a')) is sequence }}|{{ (xs | selectattr('a') | list) is sequence }}|{{ xs | selectattr('a') | first }}", """{"xs": [{"a": 0}, {"a": 5}]}""")]
    [InlineData("{{ (1, 'a') }}|{{ (1,) }}|{{ d.items() | list }}|{{ d | dictsort }}|{{ d | items | list }}|{{ '%s and %s' % ('x', 'y') }}|{{ '%s' % xs }}|{{ '%s-%s' | format(1, 2) }}", """{"d": {"b": 1, "a": [2]}, "xs": [1, 2]}""")]
    [InlineData("{{ '{}+{}={total}'.format(1, 2, total=3) }}|{{ '{1}{0}{{x}}'.format('a', 'b') }}", "{}")]
    [InlineData("{% if false %}{{ x | from_json }}{% endif %}ok{{ (y | nope) if false else '!' }}{% for i in [1] %}{% if i > 5 %}{{ i is nope }}{% endif %}{% endfor %}", "{}")]
    [InlineData("{% if true %}{{ x | from_json }}{% endif %}", """{"x": "{}"}""")]
    [InlineData("{{ x | from_json }}", """{"x": "{}"}""")]
    [InlineData("{% for i in [1] %}{{ i | nope }}{% endfor %}", "{}")]
    [InlineData("{% if true %}{% for i in [1] %}{{ i | nope }}{% endfor %}{% endif %}", "{}")]
    public void Renders_as_jinja2_does(string source, string variablesJson)
    {
        var variables = JsonDocument.Parse(variablesJson).RootElement.EnumerateObject()
            .ToDictionary(p => p.Name, p => (object?)p.Value.Clone(), StringComparer.Ordinal);
        JsonElement expected = Jinja2Reference.Render([(source, variables)], Now)[0];

        string? ours = null;
        ChatTemplateException? failure = null;
        try
        {
            // Parsing is inside the try: a template jinja2 cannot compile must not parse here either.
            var converted = variables.ToDictionary(p => p.Key, p => TemplateValues.From(p.Value), StringComparer.Ordinal);
            ours = new JinjaTemplate(source).Render(converted, () => Now);
        }
        catch (ChatTemplateException e)
        {
            failure = e;
        }

        if (expected.TryGetProperty("output", out JsonElement output))
        {
            Assert.Null(failure?.Message);
            Assert.Equal(output.GetString(), ours);
        }
        else
        {
            Assert.True(failure is not null, $"jinja2 failed ({expected.GetProperty("error").GetString()}) but Fathom rendered \"{ours}\"");
        }
    }
}
