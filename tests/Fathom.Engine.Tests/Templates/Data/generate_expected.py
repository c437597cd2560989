# Run by hand (never in CI): python3 generate_expected.py > facts.txt; the output was pasted into
# ChatTemplateRenderingTests.cs. Needs Debian's python3-jinja2 (3.1.6 was used).
# Generates expected renders with Python's jinja2 configured as transformers' apply_chat_template configures it.
import json, sys, datetime
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols

D = __import__('os').path.dirname(__import__('os').path.abspath(__file__)) + '/'
NOW = datetime.datetime(2026, 11, 28, 9, 5, 7)

class Raised(Exception): pass
def raise_exception(m): raise Raised(m)
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters['tojson'] = tojson
env.globals['raise_exception'] = raise_exception
env.globals['strftime_now'] = lambda f: NOW.strftime(f)

def cs(s):
    out = '"'
    for ch in s:
        o = ord(ch)
        if ch == '\\': out += '\\\\'
        elif ch == '"': out += '\\"'
        elif ch == '\n': out += '\\n'
        elif ch == '\r': out += '\\r'
        elif ch == '\t': out += '\\t'
        elif o < 0x20: out += '\\u%04x' % o
        else: out += ch
    return out + '"'

def render(src, messages, args_as_object, tools=None, gen=True, bos='', eos='', extra=None):
    msgs = []
    for m in messages:
        d = {'role': m['role'], 'content': m.get('content')}
        if 'reasoning_content' in m: d['reasoning_content'] = m['reasoning_content']
        if 'tool_calls' in m:
            d['tool_calls'] = [{'id': c[0], 'type': 'function', 'function': {'name': c[1], 'arguments': json.loads(c[2]) if args_as_object else c[2]}} for c in m['tool_calls']]
        if 'tool_call_id' in m: d['tool_call_id'] = m['tool_call_id']
        if 'name' in m: d['name'] = m['name']
        msgs.append(d)
    kw = dict(extra or {})
    kw.update(messages=msgs, add_generation_prompt=gen, bos_token=bos, eos_token=eos, tools=[json.loads(t) for t in tools] if tools else None)
    try:
        return env.from_string(src).render(**kw)
    except Raised as e:
        return Raised(str(e))

def cs_messages(messages):
    parts = []
    for m in messages:
        s = f'new ChatMessage({cs(m["role"])}, {cs(m["content"]) if m.get("content") is not None else "null"})'
        inits = []
        if 'reasoning_content' in m: inits.append(f'ReasoningContent = {cs(m["reasoning_content"])}')
        if 'tool_calls' in m:
            inits.append('ToolCalls = [' + ', '.join(f'new ChatToolCall({cs(c[0])}, {cs(c[1])}, {cs(c[2])})' for c in m['tool_calls']) + ']')
        if 'tool_call_id' in m: inits.append(f'ToolCallId = {cs(m["tool_call_id"])}')
        if 'name' in m: inits.append(f'Name = {cs(m["name"])}')
        if inits: s += ' { ' + ', '.join(inits) + ' }'
        parts.append('            ' + s + ',')
    return '\n'.join(parts)

def cs_value(v):
    if isinstance(v, bool): return 'true' if v else 'false'
    if isinstance(v, str): return cs(v)
    if isinstance(v, list): return 'new[] { ' + ', '.join(cs_value(x) for x in v) + ' }'
    raise Exception(v)

def fact(name, template_file, messages, args_as_object, tools=None, gen=True, bos='', eos='', extra=None):
    src = open('/work/shared/deepseek-r1-distill-llama-70b/chat_template.jinja' if template_file == 'deepseek-r1.jinja' else D + template_file).read()
    result = render(src, messages, args_as_object, tools, gen, bos, eos, extra)
    lines = [f'    [Fact]', f'    public void {name}()', '    {']
    lines.append('        ChatMessage[] messages =\n        [\n' + cs_messages(messages) + '\n        ];')
    opts = [f'AddGenerationPrompt = {"true" if gen else "false"}']
    if bos: opts.append(f'BosToken = {cs(bos)}')
    if eos: opts.append(f'EosToken = {cs(eos)}')
    if tools: opts.append('Tools = [' + ', '.join(f'Json({cs(t)})' for t in tools) + ']')
    if extra: opts.append('ExtraVariables = new Dictionary<string, object?> { ' + ', '.join(f'[{cs(k)}] = {cs_value(v)}' for k, v in extra.items()) + ' }')
    lines.append('        var options = new ChatTemplateRenderOptions { ' + ', '.join(opts) + ' };')
    if isinstance(result, Raised):
        lines.append(f'        var error = Assert.Throws<ChatTemplateException>(() => Load({cs(template_file)}).Render(messages, options));')
        lines.append('        Assert.True(error.RaisedByTemplate);')
        lines.append(f'        Assert.Equal({cs(str(result))}, error.Message);')
    else:
        lines.append(f'        string expected = {cs(result)};')
        lines.append(f'        Assert.Equal(expected, Load({cs(template_file)}).Render(messages, options));')
    lines.append('    }')
    return '\n'.join(lines)

WEATHER = '{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. Zürich"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}'
TIME = '{"type": "function", "function": {"name": "get_time", "description": "Current time <UTC>.", "parameters": {"type": "object", "properties": {}}}}'

DS = dict(bos='<｜begin▁of▁sentence｜>', eos='<｜end▁of▁sentence｜>')
L3 = dict(bos='<|begin_of_text|>', eos='<|eot_id|>')
L2 = dict(bos='<s>', eos='</s>')
out = []
def main():
    dsf = 'deepseek-r1.jinja'
    out.append(fact('DeepSeekR1_system_and_user_with_generation_prompt', dsf, [
        {'role': 'system', 'content': 'You are a helpful assistant.'},
        {'role': 'user', 'content': 'What is 2+2?'}], False, **DS))
    out.append(fact('DeepSeekR1_multi_turn_cuts_earlier_reasoning', dsf, [
        {'role': 'user', 'content': 'Hi!'},
        {'role': 'assistant', 'content': '<think>\nThe user greets me.\n</think>\n\nHello! How can I help?'},
        {'role': 'user', 'content': 'Tell me a joke.'},
        {'role': 'assistant', 'content': 'No thinking here.'},
        {'role': 'user', 'content': 'Another one, please.'}], False, **DS))
    out.append(fact('DeepSeekR1_without_generation_prompt', dsf, [
        {'role': 'user', 'content': 'Hi'},
        {'role': 'assistant', 'content': 'Hello'}], False, gen=False, **DS))
    out.append(fact('DeepSeekR1_tool_call_and_output', dsf, [
        {'role': 'user', 'content': 'Weather in Paris?'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['call_1', 'get_weather', '{"city": "Paris"}']]},
        {'role': 'tool', 'content': '{"temperature": 21}', 'tool_call_id': 'call_1'},
        {'role': 'assistant', 'content': 'It is 21 degrees in Paris.'},
        {'role': 'user', 'content': 'Thanks'}], False, tools=[WEATHER], **DS))
    out.append(fact('DeepSeekR1_two_tool_calls_and_outputs_end_the_prompt', dsf, [
        {'role': 'user', 'content': 'Weather in Paris and Rome?'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['call_1', 'get_weather', '{"city": "Paris"}'], ['call_2', 'get_weather', '{"city": "Rome"}']]},
        {'role': 'tool', 'content': '21', 'tool_call_id': 'call_1'},
        {'role': 'tool', 'content': '25', 'tool_call_id': 'call_2'}], False, tools=[WEATHER], **DS))

    l3 = 'llama-3-instruct.jinja'
    out.append(fact('Llama3_system_multi_turn_trims_content', l3, [
        {'role': 'system', 'content': 'You are a pirate.'},
        {'role': 'user', 'content': '  Hello there!\n'},
        {'role': 'assistant', 'content': 'Arr, hello.'},
        {'role': 'user', 'content': 'Where is the treasure?'}], True, **L3))

    l31 = 'llama-3.1-instruct.jinja'
    out.append(fact('Llama31_no_tools_has_dates_and_system', l31, [
        {'role': 'system', 'content': 'Be brief. '},
        {'role': 'user', 'content': 'Hi'}], True, **L3))
    out.append(fact('Llama31_without_system_message', l31, [
        {'role': 'user', 'content': 'Hi'},
        {'role': 'assistant', 'content': 'Hello!'},
        {'role': 'user', 'content': 'Bye'}], True, extra={'date_string': '28 Nov 2026'}, **L3))
    out.append(fact('Llama31_tools_in_first_user_message_with_call_and_ipython_result', l31, [
        {'role': 'system', 'content': 'You can call tools.'},
        {'role': 'user', 'content': 'Weather in Zürich?'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['call_1', 'get_weather', '{"city": "Zürich", "unit": "celsius"}']]},
        {'role': 'tool', 'content': '{"temperature": 18}', 'tool_call_id': 'call_1'},
        {'role': 'assistant', 'content': 'It is 18 °C.'},
        {'role': 'user', 'content': 'Thanks'}], True, tools=[WEATHER, TIME], **L3))
    out.append(fact('Llama31_tools_in_system_message', l31, [
        {'role': 'user', 'content': 'What time is it?'}], True, tools=[TIME], extra={'tools_in_user_message': False}, **L3))
    out.append(fact('Llama31_builtin_tools_use_python_tag_and_eom', l31, [
        {'role': 'user', 'content': 'Search the news'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['call_9', 'brave_search', '{"query": "news today"}']]},
        {'role': 'ipython', 'content': 'Headlines...'}], True, extra={'builtin_tools': ['brave_search', 'code_interpreter', 'wolfram_alpha']}, **L3))
    out.append(fact('Llama31_two_tool_calls_raise', l31, [
        {'role': 'user', 'content': 'x'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['a', 'get_time', '{}'], ['b', 'get_time', '{}']]}], True, **L3))

    l2 = 'llama-2-chat.jinja'
    out.append(fact('Llama2_system_folded_into_first_instruction', l2, [
        {'role': 'system', 'content': 'Answer in French.'},
        {'role': 'user', 'content': ' Hello '},
        {'role': 'assistant', 'content': ' Bonjour '},
        {'role': 'user', 'content': 'How are you?'}], True, **L2))
    out.append(fact('Llama2_without_system', l2, [
        {'role': 'user', 'content': 'Hello'}], True, **L2))
    out.append(fact('Llama2_roles_must_alternate', l2, [
        {'role': 'user', 'content': 'a'},
        {'role': 'user', 'content': 'b'}], True, **L2))

    q = 'qwen2-instruct-chatml.jinja'
    out.append(fact('ChatML_Qwen2_adds_default_system', q, [
        {'role': 'user', 'content': 'Hi'}], True))
    out.append(fact('ChatML_Qwen2_with_system_and_history', q, [
        {'role': 'system', 'content': 'Be nice.'},
        {'role': 'user', 'content': 'Hi'},
        {'role': 'assistant', 'content': 'Hello.'},
        {'role': 'user', 'content': 'Bye'}], True, gen=False))
    nemo = 'mistral-nemo-instruct-2407.jinja'
    out.append(fact('MistralNemo_tools_before_last_user_message_and_tool_round_trip', nemo, [
        {'role': 'system', 'content': 'Be exact.'},
        {'role': 'user', 'content': 'Weather?'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['abcdefghi', 'get_weather', '{"city": "Paris", "n": 2.5}']]},
        {'role': 'tool', 'content': '{"t": 20}', 'tool_call_id': 'abcdefghi'},
        {'role': 'assistant', 'content': 'Warm.'},
        {'role': 'user', 'content': 'Thx'}], True, tools=[WEATHER, TIME], **L2))
    out.append(fact('MistralNemo_tool_call_ids_must_have_nine_characters', nemo, [
        {'role': 'user', 'content': 'x'},
        {'role': 'assistant', 'content': None, 'tool_calls': [['short', 'get_time', '{}']]}], True, **L2))
    print('\n\n'.join(out))

if __name__ == '__main__':
    main()
