#!/usr/bin/python3
"""Writes the chat-template test conversations, one JSON file each, into OUT_DIR.

Each file is {"messages": [...], "add_generation_prompt": bool, optionally "tools": [...]},
the input `dsinfer chat-template` and render_reference.py both read. The set is fixed
(seeded), and covers: with and without system prompts (also several), multi-turn chats,
assistant tool calls (one and several) with tool outputs (one and several in a row), tool
schemas, R1-style <think> content in assistant history, non-ASCII text, whitespace that
templates trim, quotes, backslashes and braces, and add_generation_prompt on and off.

Usage: make_conversations.py OUT_DIR
"""
import json
import os
import random
import sys

USER_TEXTS = [
    "Hello!",
    "What is 2 + 2?",
    "Write a haiku about the sea.",
    "  Leading and trailing spaces  ",
    "Line one\nLine two\n\nLine four\n",
    "Quotes: \"double\" and 'single', a backslash \\ and a tab\t.",
    "Braces {{ not a template }} and {% neither %} and {# nor this #}",
    "中文问题：今天天气怎么样？",
    "Emoji 🎉 and accents: café, naïve, Ærø.",
    "Translate 'good morning' into French, German and Japanese.",
    "",
    "<think>user text that looks like a tag</think>",
]
ASSISTANT_TEXTS = [
    "Hi! How can I help?",
    "2 + 2 = 4.",
    "Waves fold on the shore\nsalt wind carries gull voices\nthe tide keeps its time",
    "<think>\nThe user wants a sum. 2 + 2 is 4.\n</think>\n\nThe answer is 4.",
    "<think>short</think>Answer after thinking.",
    "Sure: `print(\"hi\")`\n```python\nprint('hi')\n```",
    "  padded answer  \n",
    "Réponse en français, 日本語の答え。",
]
SYSTEM_TEXTS = [
    "You are a helpful assistant.",
    "You are a terse assistant. Answer in one sentence.",
    "  System prompt with spaces and\nnewlines.  ",
    "系统提示：用中文回答。",
]
TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "search", "description": "Search the web",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"}, "limit": {"type": "integer", "default": 5}},
            "required": ["query"]}}},
]


def tool_call(rng, index):
    name = rng.choice(["get_weather", "search"])
    args = {"city": rng.choice(["Paris", "東京", "Zürich"])} if name == "get_weather" else \
        {"query": rng.choice(["jinja2 whitespace", "\"quoted\" query"]), "limit": 3}
    return {"id": f"call_{index}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}


def tool_exchange(rng, n_calls, counter):
    calls = [tool_call(rng, counter + i) for i in range(n_calls)]
    messages = [{"role": "assistant", "content": None, "tool_calls": calls}]
    for call in calls:
        result = {"ok": True, "name": call["function"]["name"], "value": rng.randint(0, 99)}
        messages.append({"role": "tool", "tool_call_id": call["id"],
                         "content": json.dumps(result)})
    return messages


def conversation(rng, index):
    shape = index % 10
    messages = []
    if shape in (0, 2, 4, 6, 8) or rng.random() < 0.3:
        messages.append({"role": "system", "content": rng.choice(SYSTEM_TEXTS)})
    if shape == 9:  # two system prompts (DeepSeek-V3 joins them)
        messages.append({"role": "system", "content": rng.choice(SYSTEM_TEXTS)})
    turns = 1 + (index % 4)
    with_tools = shape in (3, 4, 7)
    counter = 0
    for turn in range(turns):
        messages.append({"role": "user", "content": rng.choice(USER_TEXTS)})
        if with_tools and turn == 0:
            n_calls = 1 if shape != 7 else 2
            messages += tool_exchange(rng, n_calls, counter)
            counter += n_calls
        last = turn == turns - 1
        if not last or shape in (1, 5):  # some conversations end with an assistant turn
            messages.append({"role": "assistant", "content": rng.choice(ASSISTANT_TEXTS)})
    result = {"messages": messages, "add_generation_prompt": index % 2 == 0}
    if with_tools and index % 3 != 0:
        result["tools"] = TOOLS
    return result


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(20250107)
    count = 60
    for i in range(count):
        with open(os.path.join(out_dir, f"conversation_{i:03d}.json"), "w", encoding="utf-8") as f:
            json.dump(conversation(rng, i), f, ensure_ascii=False, indent=1)
    print(f"wrote {count} conversations to {out_dir}")


if __name__ == "__main__":
    main()
