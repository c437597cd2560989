# Renders chat templates with Python's jinja2 configured as transformers' apply_chat_template configures it
# (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, raise_exception, strftime_now, and
# tojson as json.dumps with ensure_ascii=False), for ChatTemplateCorpusTests to compare with Fathom's renderer.
# Input (stdin, JSON): {"now": "YYYY-MM-DDTHH:MM:SS", "jobs": [{"template": TEXT, "variables": {...}}, ...]}.
# Output (stdout, JSON): one entry per job: {"output": TEXT} or {"error": MESSAGE, "raised": true|false}.
import datetime
import json
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class Generation(jinja2.ext.Extension):
    # transformers' AssistantTracker: {% generation %} renders its body unchanged.
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def main():
    request = json.load(sys.stdin)
    now = datetime.datetime.fromisoformat(request["now"])
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    compiled = {}
    results = []
    for job in request["jobs"]:
        source = job["template"]
        try:
            if source not in compiled:
                compiled[source] = env.from_string(source)
            results.append({"output": compiled[source].render(**job["variables"])})
        except TemplateRaised as e:
            results.append({"error": str(e), "raised": True})
        except Exception as e:  # noqa: BLE001 - any jinja2 failure is a result to compare, not a crash
            results.append({"error": f"{type(e).__name__}: {e}", "raised": False})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
