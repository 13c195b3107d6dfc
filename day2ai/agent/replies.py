"""Reading a model's turn the way weak models and plain servers actually write it.

* Tool calls the server did not parse: a JSON object in the content
  (``{"name": "log_patterns", "arguments": {...}}``), ``<tool_call>...</tool_call>`` tags (Qwen,
  Hermes, SmolLM), or ``functions.NAME:`` followed by a JSON object (llama.cpp's function-calling
  chat format) become ordinary tool calls, for the tools that were offered only.
* Malformed arguments are repaired where the fix is mechanical (code fences, trailing commas,
  single quotes, missing closing brackets); otherwise the call stays invalid with an accurate
  message ("invalid JSON in submit_hypotheses arguments: ...").
* :func:`answer_payload` tells an answer (the submit call's arguments or a JSON/text reply) from
  a malformed submit call and from a turn that did not answer at all.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Collection
from typing import Any

from langchain_core.messages import AIMessage, InvalidToolCall, ToolCall

from day2ai.agent.answer import SUBMIT_TOOL

_ids = itertools.count(1)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FUNCTIONS = re.compile(r"functions\.([A-Za-z_][\w-]*)\s*:\s*(\{.*\})", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_ARG_KEYS = ("arguments", "parameters", "args", "input")


def repair_json(raw: str) -> Any:
    """``json.loads`` with mechanical repairs; raises ``ValueError`` naming the first problem."""
    text = raw.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    if not text:
        raise ValueError("the arguments are empty")
    try:
        return json.loads(text)
    except ValueError as first:
        for candidate in _repairs(text):
            try:
                return json.loads(candidate)
            except ValueError:
                continue
        raise ValueError(f"{first.args[0] if first.args else first}") from first


def _repairs(text: str) -> list[str]:
    no_commas = _TRAILING_COMMA.sub(r"\1", text)
    closed = _close_brackets(no_commas)
    out = [no_commas, closed]
    if "'" in text and '"' not in text:
        out.append(_close_brackets(_TRAILING_COMMA.sub(r"\1", text.replace("'", '"'))))
    return out


def _close_brackets(text: str) -> str:
    """Append the closing brackets (and quote) a truncated JSON text is missing."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    tail = '"' if in_string else ""
    return _TRAILING_COMMA.sub(r"\1", text.rstrip().rstrip(",") + tail + "".join(reversed(stack)))


def _call(name: str, args: dict[str, Any]) -> ToolCall:
    return ToolCall(name=name, args=args, id=f"text_call_{next(_ids)}", type="tool_call")


def _from_object(data: Any, offered: Collection[str]) -> ToolCall | None:
    if not isinstance(data, dict):
        return None
    name = data.get("name") or data.get("tool") or data.get("function")
    if isinstance(name, dict):  # {"function": {"name": ..., "arguments": ...}}
        return _from_object(name, offered)
    if not isinstance(name, str) or name not in offered:
        return None
    args: Any = next((data[k] for k in _ARG_KEYS if k in data), {})
    if isinstance(args, str):
        try:
            args = repair_json(args)
        except ValueError:
            return None
    return _call(name, args) if isinstance(args, dict) else None


def calls_in_text(text: str, offered: Collection[str]) -> list[ToolCall]:
    """Tool calls written into a reply's text, for tools in ``offered``; [] if there are none."""
    calls: list[ToolCall] = []
    for block in _TAGGED.findall(text):
        try:
            call = _from_object(repair_json(block), offered)
        except ValueError:
            continue
        if call:
            calls.append(call)
    if calls:
        return calls
    for m in _FUNCTIONS.finditer(text):
        if m.group(1) in offered:
            try:
                args = repair_json(m.group(2))
            except ValueError:
                continue
            if isinstance(args, dict):
                calls.append(_call(m.group(1), args))
    if calls:
        return calls
    stripped = text.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", stripped, re.DOTALL)
    candidate = fenced.group(1) if fenced else stripped
    if candidate.startswith("{"):
        try:
            data = repair_json(candidate)
        except ValueError:
            return []
        items = data if isinstance(data, list) else [data]
        calls = [c for c in (_from_object(item, offered) for item in items) if c]
    return calls


def normalise_reply(ai: AIMessage, offered: Collection[str]) -> tuple[AIMessage, list[str]]:
    """The turn with text tool calls parsed and repairable arguments repaired, and what was done."""
    done: list[str] = []
    good = list(ai.tool_calls)
    bad: list[InvalidToolCall] = []
    for inv in ai.invalid_tool_calls:
        name = inv.get("name") or "?"
        try:
            args = repair_json(inv.get("args") or "")
        except ValueError as exc:
            bad.append(InvalidToolCall(name=name, args=inv.get("args"), id=inv.get("id"), type="invalid_tool_call",
                                       error=f"invalid JSON in {name} arguments: {exc}"))
            continue
        if not isinstance(args, dict):
            bad.append(InvalidToolCall(name=name, args=inv.get("args"), id=inv.get("id"), type="invalid_tool_call",
                                       error=f"the {name} arguments are not a JSON object"))
            continue
        good.append(ToolCall(name=name, args=args, id=inv.get("id") or f"repaired_{next(_ids)}", type="tool_call"))
        done.append(f"repaired the JSON arguments of {name}")
    if not good and not bad:
        text = ai.content if isinstance(ai.content, str) else ""
        good = calls_in_text(text, offered)
        if good:
            done.append("read tool calls written as text: " + ", ".join(c["name"] for c in good))
            return AIMessage(content="", tool_calls=good, usage_metadata=ai.usage_metadata,
                             response_metadata=ai.response_metadata, id=ai.id), done
    if not ai.invalid_tool_calls:
        return ai, done
    return AIMessage(content=ai.content, tool_calls=good, invalid_tool_calls=bad, usage_metadata=ai.usage_metadata,
                     response_metadata=ai.response_metadata, id=ai.id), done


def answer_payload(ai: AIMessage) -> tuple[str | dict[str, Any] | None, str | None]:
    """(the answer, None), or (None, the problem to tell the model), or (None, None) for no answer."""
    for call in ai.tool_calls:
        if call["name"] == SUBMIT_TOOL:
            return call["args"], None
    for bad in ai.invalid_tool_calls:
        if bad.get("name") == SUBMIT_TOOL:
            return None, str(bad.get("error") or f"invalid JSON in {SUBMIT_TOOL} arguments")
    if ai.tool_calls or ai.invalid_tool_calls:
        return None, None
    text = ai.content if isinstance(ai.content, str) else " ".join(str(b) for b in ai.content)
    return (text, None) if text.strip() else (None, None)
