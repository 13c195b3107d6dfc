"""day2ai's investigation tools as LangChain tools, bound to one :class:`Investigation`.

Each registered tool (``day2ai.tools.base.TOOLS``) becomes a ``StructuredTool`` whose argument
schema comes from the function's type hints and whose description comes from its docstring
(first paragraph, plus ``Args:`` lines as parameter descriptions). Outputs are already compacted
and token-capped by the tool layer; bad arguments and unexpected failures come back to the model
as actionable ``ERROR: ...`` text instead of exceptions.

Use them in your own agent::

    inv = Investigation(incident, sources)
    tools = langchain_tools(inv)                  # redacts outputs by default
    agent = create_react_agent(model, tools)      # LangGraph, for example
    ...
    report_evidence = inv.evidence                # what the tools found, with ids
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, ValidationError, create_model

from day2ai.errors import ConfigError
from day2ai.redact import redact
from day2ai.tools.base import TOOLS, Investigation

ToolFunction = Callable[..., Awaitable[str]]
_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Raises|Examples?|Notes?)\s*:\s*$",
                      re.MULTILINE)


def load_tool_modules() -> None:
    """Import every module of ``day2ai.tools`` so that its ``@tool`` functions register (idempotent)."""
    import day2ai.tools as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {param: description}) from a Google-style docstring."""
    text = inspect.cleandoc(doc or "")
    first_section = _SECTION.search(text)
    head = text[: first_section.start()] if first_section else text
    description = " ".join(head.split())
    params: dict[str, str] = {}
    args = re.search(r"^(?:Args|Arguments|Parameters)\s*:\s*\n(.*?)(?=^\S|\Z)", text,
                     re.MULTILINE | re.DOTALL)
    if args:
        lines = [ln for ln in args.group(1).splitlines() if ln.strip()]
        base = min((len(ln) - len(ln.lstrip()) for ln in lines), default=0)
        current: str | None = None
        for line in lines:
            m = re.match(r"(\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$", line.strip())
            if m and len(line) - len(line.lstrip()) == base:
                current = m.group(1)
                params[current] = m.group(2).strip()
            elif current:
                params[current] += " " + line.strip()
    return description, params


def args_schema(name: str, fn: ToolFunction) -> type[BaseModel]:
    """A pydantic model of the tool's parameters (all but the leading ``Investigation``)."""
    hints = typing.get_type_hints(fn)
    _, docs = parse_docstring(fn.__doc__)
    fields: dict[str, Any] = {}
    params = list(inspect.signature(fn).parameters.values())[1:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = hints.get(p.name, str)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (annotation, Field(default, description=docs.get(p.name)))
    model: type[BaseModel] = create_model(f"{_camel(name)}Args", **fields)
    return model


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _validation_message(name: str) -> Callable[[ValidationError], str]:
    def message(exc: ValidationError) -> str:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()[:5]
        )
        return f"ERROR: invalid arguments for {name}: {problems}. Fix the arguments and call it again."

    return message


def as_langchain_tool(
    inv: Investigation,
    name: str,
    fn: ToolFunction,
    *,
    postprocess: Callable[[str], str] | None = redact,
) -> StructuredTool:
    """One day2ai tool as a LangChain tool bound to ``inv``."""
    description, _ = parse_docstring(fn.__doc__)

    async def run(**kwargs: Any) -> str:
        try:
            text = await fn(inv, **kwargs)
        except Exception as exc:  # a bug in one tool must not end the investigation
            inv.add_gap(name, f"{type(exc).__name__}: {exc}")
            text = (f"ERROR: {name} failed unexpectedly ({type(exc).__name__}: {exc}). "
                    "Try other arguments or another tool.")
        return postprocess(text) if postprocess else text

    return StructuredTool.from_function(
        coroutine=run,
        name=name,
        description=description or name.replace("_", " "),
        args_schema=args_schema(name, fn),
        handle_validation_error=_validation_message(name),
    )


def langchain_tools(
    inv: Investigation,
    names: Iterable[str] | None = None,
    *,
    postprocess: Callable[[str], str] | None = redact,
) -> list[StructuredTool]:
    """The registered tools (or the named ones) as LangChain tools bound to ``inv``.

    ``postprocess`` defaults to :func:`~day2ai.redact.redact` so that tools handed to another agent
    never leak secrets to its model; day2ai's own loop passes ``None`` because it redacts every
    message centrally.
    """
    load_tool_modules()
    selected = list(TOOLS) if names is None else list(names)
    unknown = [n for n in selected if n not in TOOLS]
    if unknown:
        raise ConfigError(f"unknown tools: {', '.join(unknown)} (available: {', '.join(sorted(TOOLS))})")
    return [as_langchain_tool(inv, n, TOOLS[n], postprocess=postprocess) for n in selected]
