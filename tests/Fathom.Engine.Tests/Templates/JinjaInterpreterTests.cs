using System.Text.Json;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Jinja;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// The interpreter against Python's jinja2 3.1.6 (configured as transformers configures it: trim_blocks,
/// lstrip_blocks, loopcontrols, transformers' tojson). Each expected string was produced once by jinja2
/// (Data/generate_expected.py) and is committed as a literal.
/// </summary>
public sealed class JinjaInterpreterTests
{
    private static readonly DateTime FixedNow = new(2026, 11, 28, 9, 5, 7);

    private static string Render(string template, string variablesJson)
    {
        using var document = JsonDocument.Parse(variablesJson);
        var variables = (Dictionary<string, object?>)TemplateValues.From(document.RootElement)!;
        return new JinjaTemplate(template).Render(variables, () => FixedNow);
    }

    [Theory]
    [InlineData("{% set x = 0 %}{% for i in [1,2,3] %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", "{}", "1110")]
    [InlineData("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "{}", "6")]
    [InlineData("{% for m in xs %}{{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %} {{ loop.revindex0 }};{% endfor %}", "{\"xs\": [\"a\", \"b\", \"c\"]}", "1/3F 2;2/3 1;3/3L 0;")]
    [InlineData("{% for x in xs if x > 1 %}{{ x }}{{ ',' if not loop.last }}{% else %}empty{% endfor %}", "{\"xs\": [1, 2, 3, 0, 5]}", "2,3,5")]
    [InlineData("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", "{}", "empty")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}|{% for k, v in d|items %}{{ k }}{% endfor %}", "{\"d\": {\"b\": 1, \"a\": [1, \"x\"]}}", "b=1 a=[1, 'x'] |ba")]
    [InlineData("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", "{\"xs\": [1, 2, 3, 4, 5]}", "13")]
    [InlineData("{{ 'abc'[::-1] }} {{ xs[1:] }} {{ xs[-1] }} {{ xs[:-1] }} {{ xs[::2] }} {{ 'hello'[1:3] }}", "{\"xs\": [1, 2, 3, 4]}", "cba [2, 3, 4] 4 [1, 2, 3] [1, 3] el")]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1.5 * 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 3 - 5 }}", "{}", "3 -4 2 3.5 1024 3.0 0.30000000000000004 1e+20 -2")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2, 'x'] }}", "{}", "a1NoneTrue ababab [1, 2, 'x']")]
    [InlineData("{{ 'abc' * 7 }}|{{ '😀x' * 3 }}|{{ ('😀x' * 3) | length }}|{{ 'x' * 0 }}|{{ 'x' * -2 }}|{{ [1, 2] * 2 }}|{{ range(10, 0, -3) | list }}|{{ range(0, 10, 4) | list }}|{{ range(3, 3) | list }}|{{ [1, 2, 3, 4, 5][4:0:-2] }}", "{}", "abcabcabcabcabcabcabc|😀x😀x😀x|6|||[1, 2, 1, 2]|[10, 7, 4, 1]|[0, 4, 8]|[]|[5, 3]")]
    [InlineData("{{ x }}|{{ x is defined }}|{{ x is none }}|{{ y is none }}|{{ y is defined }}|{{ x | default('dflt') }}|{{ '' | default('e', true) }}", "{\"y\": null}", "|False|False|True|True|dflt|e")]
    [InlineData("{{ none }} {{ true }} {{ [none, true, 1.0, 'it\\'s', \"q\\\"\"] }} {{ {'a': 1, 'b': [2]} }}", "{}", "None True [None, True, 1.0, \"it's\", 'q\"'] {'a': 1, 'b': [2]}")]
    [InlineData("{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in d }} {{ 'z' not in d }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 1 == 1.0 }} {{ true == 1 }}", "{\"d\": {\"k\": 1}}", "True True True True True False True True")]
    [InlineData("{{ '  x y  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ ' a '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ 'a-b-c'.split('-', 1) }}", "{}", "x y|a|a|['a', 'b', '', 'c']|['a', 'b']|['a-b', 'c']|['a', 'b-c']")]
    [InlineData("{{ 'Hello World'.lower() }} {{ 'hello world'.upper() }} {{ 'hello wORLD'.title() }} {{ 'hello' | capitalize }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aXbX'.replace('X', '-') }} {{ 'aaa' | replace('a', 'b', 2) }}", "{}", "hello world HELLO WORLD Hello World Hello True True a-b- bba")]
    [InlineData("{{ xs | length }} {{ 'héllo' | length }} {{ xs | first }} {{ xs | last }} {{ xs | join(', ') }} {{ xs | reverse | list }} {{ xs | sort | list }} {{ xs | max }} {{ xs | min }} {{ xs | sum }}", "{\"xs\": [3, 1, 2]}", "3 5 3 2 3, 1, 2 [2, 1, 3] [1, 2, 3] 3 1 6")]
    [InlineData("{{ users | selectattr('active') | map(attribute='name') | join(',') }}|{{ users | rejectattr('active') | map(attribute='name') | list }}|{{ users | selectattr('role', 'equalto', 'admin') | list | length }}|{{ [1,2,3,4] | select('even') | list }}|{{ ['a','code_interpreter','b'] | reject('equalto', 'code_interpreter') | join(' ') }}", "{\"users\": [{\"name\": \"ann\", \"active\": true, \"role\": \"admin\"}, {\"name\": \"bob\", \"active\": false, \"role\": \"user\"}]}", "ann|['bob']|1|[2, 4]|a b")]
    [InlineData("{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n<' | tojson }}|{{ [] | tojson(indent=4) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ 1.0 | tojson }}", "{\"d\": {\"z\": [1, 2.5, null, true], \"a\": {\"k\": \"v\"}, \"e\": {}}}", "{\"z\": [1, 2.5, null, true], \"a\": {\"k\": \"v\"}, \"e\": {}}|{\n  \"z\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"a\": {\n    \"k\": \"v\"\n  },\n  \"e\": {}\n}|\"é\\\"\\n<\"|[]|{\"a\": 2, \"b\": 1}|1.0")]
    [InlineData("{{ text | indent(2) }}|{{ text | indent(2, true) }}|{{ text | indent(4, first=true, blank=true) }}", "{\"text\": \"a\\n\\nb\\n\"}", "a\n\n  b\n|  a\n\n  b\n|    a\n    \n    b\n    ")]
    [InlineData("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }} {{ greet('Cy', 'Yo') }}", "{}", "Hello, Ann! Hi, Bob! Yo, Cy!")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t %}block {{ a }}{% endset %}[{{ t }}]{% set u | upper %}up{% endset %}{{ u }}", "{}", "12[block 1]UP")]
    [InlineData("{{ 'yes' if x else 'no' }} {{ 'yes' if y else 'no' }} [{{ 'only' if y }}] {{ x and 'a' or 'b' }} {{ not x }}", "{\"x\": 1, \"y\": 0}", "yes no [] a False")]
    [InlineData("{{ m.content is string }} {{ m.content is mapping }} {{ m.parts is iterable }} {{ m.parts is sequence }} {{ m is mapping }} {{ 3 is odd }} {{ 4 is divisibleby 2 }} {{ 'a' is in ['a'] }} {{ m.content is not none }}", "{\"m\": {\"content\": \"hi\", \"parts\": [1]}}", "True False True True True True True True True")]
    [InlineData("  {% if true %}\n    kept\n  {% endif %}\n{# comment #}\nline {{- ' trimmed' -}}   \n  end  {%- if true %} x{% endif %}\n", "{}", "    kept\nline trimmedend x")]
    [InlineData("{%- for m in messages -%}\n  <{{ m.role }}>\n{%- endfor %}\n{{ '%s-%d' % ('a', 3) }}\n", "{\"messages\": [{\"role\": \"u\"}, {\"role\": \"a\"}]}", "<u><a>a-3")]
    [InlineData("{{ m['missing'] }}|{{ m.missing is defined }}|{{ m.get('missing', 'fallback') }}|{{ m.get('role') }}|{{ m.keys() | list }}|{{ m.values() | list }}", "{\"m\": {\"role\": \"user\"}}", "|False|fallback|user|['role']|['user']")]
    [InlineData("{{ strftime_now('%Y-%m-%d %H:%M:%S %b %d') }}", "{}", "2026-11-28 09:05:07 Nov 28")]
    [InlineData("{% raw %}{{ not rendered }}{% endraw %}|{{ '{{' }}|{{ \"\\u00e9\\x41\\t\" }}", "{}", "{{ not rendered }}|{{|éA\t")]
    [InlineData("{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ dict(a=1)['a'] }} {{ [1, 2] | map('string') | join }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ 2.7 | int }} {{ 3 | float }} {{ -3 | abs }} {{ 2.567 | round(2) }}", "{}", "[0, 1, 2] [1, 4, 7] 1 12 43 0 2 3.0 3 2.57")]
    [InlineData("{{ messages[0]['content'] | trim + '!' }} {{ -x | abs }} {{ x|string + 'a' }}", "{\"messages\": [{\"content\": \" hi \"}], \"x\": 5}", "hi! 5 5a")]
    [InlineData("{{ \"Use '\"|safe + name + \"'\\n\"|safe + d|tojson }}|{{ (name|e) + name }}|{{ name|safe|length }}|{{ 'x'|safe is string }}", "{\"name\": \"a<b\", \"d\": {\"k\": \"v\\\"q\"}}", "Use 'a&lt;b'\n{&#34;k&#34;: &#34;v\\&#34;q&#34;}|a&lt;ba&lt;b|3|True")]
    public void Renders_like_jinja2(string template, string variablesJson, string expected) =>
        Assert.Equal(expected, Render(template, variablesJson));

    [Theory]
    [InlineData("{{ undefined_thing.attr }}", "'undefined_thing' is undefined")]
    [InlineData("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str")]
    [InlineData("{% for x in none %}{% endfor %}", "'NoneType' object is not iterable")]
    [InlineData("{{ undefined_thing + 'a' }}", "'undefined_thing' is undefined")]
    public void Fails_where_jinja2_fails(string template, string message)
    {
        var error = Assert.Throws<ChatTemplateException>(() => Render(template, "{}"));
        Assert.False(error.RaisedByTemplate);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Raise_exception_is_typed_and_carries_the_template_message()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Render("{{ raise_exception('Custom failure!') }}", "{}"));
        Assert.True(error.RaisedByTemplate);
        Assert.Equal("Custom failure!", error.Message);
    }

    [Theory]
    [InlineData("{% if x %}never closed")]
    [InlineData("{{ x | no_such_filter }}")]
    [InlineData("{{ x is no_such_test }}")]
    [InlineData("{% unknown_tag %}")]
    [InlineData("{{ 'unterminated }}")]
    [InlineData("{{ (1 + }}")]
    public void Invalid_templates_are_syntax_errors(string template)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => new JinjaTemplate(template));
        Assert.True(error.Line >= 1);
    }

    [Fact]
    public void Undefined_attribute_of_a_defined_mapping_renders_empty_but_its_attribute_fails()
    {
        Assert.Equal("[]", Render("[{{ m.nothing }}]", """{"m": {}}"""));
        var error = Assert.Throws<ChatTemplateException>(() => Render("{{ m.nothing.deeper }}", """{"m": {}}"""));
        Assert.Equal("'dict object' has no attribute 'nothing'", error.Message);
    }
}
