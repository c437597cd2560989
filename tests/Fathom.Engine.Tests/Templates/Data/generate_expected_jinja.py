import json, sys
sys.path.insert(0, __import__('os').path.dirname(__file__))
from generate_expected import env, cs, Raised
cases = [
 ("{% set x = 0 %}{% for i in [1,2,3] %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", {}),
 ("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", {}),
 ("{% for m in xs %}{{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %} {{ loop.revindex0 }};{% endfor %}", {"xs": ["a","b","c"]}),
 ("{% for x in xs if x > 1 %}{{ x }}{{ ',' if not loop.last }}{% else %}empty{% endfor %}", {"xs": [1,2,3,0,5]}),
 ("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", {}),
 ("{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}|{% for k, v in d|items %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": [1, "x"]}}),
 ("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {"xs": [1,2,3,4,5]}),
 ("{{ 'abc'[::-1] }} {{ xs[1:] }} {{ xs[-1] }} {{ xs[:-1] }} {{ xs[::2] }} {{ 'hello'[1:3] }}", {"xs": [1,2,3,4]}),
 ("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1.5 * 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 3 - 5 }}", {}),
 ("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2, 'x'] }}", {}),
 ("{{ x }}|{{ x is defined }}|{{ x is none }}|{{ y is none }}|{{ y is defined }}|{{ x | default('dflt') }}|{{ '' | default('e', true) }}", {"y": None}),
 ("{{ none }} {{ true }} {{ [none, true, 1.0, 'it\\'s', \"q\\\"\"] }} {{ {'a': 1, 'b': [2]} }}", {}),
 ("{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in d }} {{ 'z' not in d }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 1 == 1.0 }} {{ true == 1 }}", {"d": {"k": 1}}),
 ("{{ '  x y  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ ' a '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a-b-c'.rsplit('-', 1) }}|{{ 'a-b-c'.split('-', 1) }}", {}),
 ("{{ 'Hello World'.lower() }} {{ 'hello world'.upper() }} {{ 'hello wORLD'.title() }} {{ 'hello' | capitalize }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aXbX'.replace('X', '-') }} {{ 'aaa' | replace('a', 'b', 2) }}", {}),
 ("{{ xs | length }} {{ 'héllo' | length }} {{ xs | first }} {{ xs | last }} {{ xs | join(', ') }} {{ xs | reverse | list }} {{ xs | sort | list }} {{ xs | max }} {{ xs | min }} {{ xs | sum }}", {"xs": [3, 1, 2]}),
 ("{{ users | selectattr('active') | map(attribute='name') | join(',') }}|{{ users | rejectattr('active') | map(attribute='name') | list }}|{{ users | selectattr('role', 'equalto', 'admin') | list | length }}|{{ [1,2,3,4] | select('even') | list }}|{{ ['a','code_interpreter','b'] | reject('equalto', 'code_interpreter') | join(' ') }}", {"users": [{"name": "ann", "active": True, "role": "admin"}, {"name": "bob", "active": False, "role": "user"}]}),
 ("{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n<' | tojson }}|{{ [] | tojson(indent=4) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ 1.0 | tojson }}", {"d": {"z": [1, 2.5, None, True], "a": {"k": "v"}, "e": {}}}),
 ("{{ text | indent(2) }}|{{ text | indent(2, true) }}|{{ text | indent(4, first=true, blank=true) }}", {"text": "a\n\nb\n"}),
 ("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }} {{ greet('Cy', 'Yo') }}", {}),
 ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t %}block {{ a }}{% endset %}[{{ t }}]{% set u | upper %}up{% endset %}{{ u }}", {}),
 ("{{ 'yes' if x else 'no' }} {{ 'yes' if y else 'no' }} [{{ 'only' if y }}] {{ x and 'a' or 'b' }} {{ not x }}", {"x": 1, "y": 0}),
 ("{{ m.content is string }} {{ m.content is mapping }} {{ m.parts is iterable }} {{ m.parts is sequence }} {{ m is mapping }} {{ 3 is odd }} {{ 4 is divisibleby 2 }} {{ 'a' is in ['a'] }} {{ m.content is not none }}", {"m": {"content": "hi", "parts": [1]}}),
 ("  {% if true %}\n    kept\n  {% endif %}\n{# comment #}\nline {{- ' trimmed' -}}   \n  end  {%- if true %} x{% endif %}\n", {}),
 ("{%- for m in messages -%}\n  <{{ m.role }}>\n{%- endfor %}\n{{ '%s-%d' % ('a', 3) }}\n", {"messages": [{"role": "u"}, {"role": "a"}]}),
 ("{{ m['missing'] }}|{{ m.missing is defined }}|{{ m.get('missing', 'fallback') }}|{{ m.get('role') }}|{{ m.keys() | list }}|{{ m.values() | list }}", {"m": {"role": "user"}}),
 ("{{ strftime_now('%Y-%m-%d %H:%M:%S %b %d') }}", {}),
 ("{% raw %}{{ not rendered }}{% endraw %}|{{ '{{' }}|{{ \"\\u00e9\\x41\\t\" }}", {}),
 ("{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ dict(a=1)['a'] }} {{ [1, 2] | map('string') | join }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ 2.7 | int }} {{ 3 | float }} {{ -3 | abs }} {{ 2.567 | round(2) }}", {}),
 ("{{ messages[0]['content'] | trim + '!' }} {{ -x | abs }} {{ x|string + 'a' }}", {"messages": [{"content": " hi "}], "x": 5}),
]
err_cases = [
 ("{{ undefined_thing.attr }}", {}),
 ("{{ 'a' + 1 }}", {}),
 ("{{ raise_exception('Custom failure!') }}", {}),
 ("{% for x in none %}{% endfor %}", {}),
]
lines = []
for src, vars in cases:
    try:
        r = env.from_string(src).render(**vars)
    except Exception as e:
        print('UNEXPECTED', src, e, file=sys.stderr); raise
    lines.append(f'    [InlineData({cs(src)}, {cs(json.dumps(vars))}, {cs(r)})]')
print('\n'.join(lines))
print('----')
for src, vars in err_cases:
    try:
        r = env.from_string(src).render(**vars); print('NOERR', src, r)
    except Exception as e:
        print(f'    [InlineData({cs(src)}, {cs(str(e))})]', type(e).__name__)
