#!/usr/bin/python3
"""Reference chat-template renderer: Jinja2 configured exactly as Hugging Face transformers'
apply_chat_template configures it (transformers/utils/chat_template_utils.py,
_compile_jinja_template): ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks,
the loopcontrols extension and the {% generation %} tag, tojson overridden with json.dumps
(ensure_ascii=False), and raise_exception / strftime_now globals. Run with Debian's
/usr/bin/python3 (python3-jinja2), not a pyenv python.

Usage: render_reference.py TEMPLATE_SOURCE [--add-generation-prompt] < input.json
prints the rendering to stdout, or the error to stderr with exit status 1.
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class AssistantTracker(Extension):
    """transformers' {% generation %} tag; here it only renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def compile_template(source):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def special_token(value):
    if isinstance(value, dict):
        return value.get("content")
    return value


def load_source(path):
    """(template, special tokens) from a tokenizer_config.json or a template file."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".json"):
        config = json.loads(data)
        template = config["chat_template"]
        if isinstance(template, list):
            template = next(t["template"] for t in template if t.get("name") == "default")
        tokens = {}
        for key in ("bos_token", "eos_token"):
            value = special_token(config.get(key))
            if value is not None:
                tokens[key] = value
        return template, tokens
    return data.decode("utf-8"), {}


def render(source, tokens, conversation, add_generation_prompt):
    """conversation: a list of messages or {"messages": ..., "tools": ..., other kwargs}."""
    if isinstance(conversation, list):
        conversation = {"messages": conversation}
    kwargs = dict(conversation)
    messages = kwargs.pop("messages")
    tools = kwargs.pop("tools", None)
    add_generation_prompt = add_generation_prompt or bool(kwargs.pop("add_generation_prompt", False))
    template_kwargs = {**tokens, **kwargs}
    return compile_template(source).render(messages=messages, tools=tools, documents=None,
                                           add_generation_prompt=add_generation_prompt,
                                           **template_kwargs)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    tokens_override = {}
    for flag in flags:
        if flag.startswith("--bos-token="):
            tokens_override["bos_token"] = flag.split("=", 1)[1]
        if flag.startswith("--eos-token="):
            tokens_override["eos_token"] = flag.split("=", 1)[1]
    source, tokens = load_source(args[0])
    tokens.update(tokens_override)
    conversation = json.loads(sys.stdin.buffer.read())
    try:
        text = render(source, tokens, conversation, "--add-generation-prompt" in flags)
    except Exception as e:  # noqa: BLE001 - any template failure is reported, not raised
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
