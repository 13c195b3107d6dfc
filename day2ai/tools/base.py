"""The context every tool runs in, and the ``@tool`` decorator.

A tool is a plain ``async def`` whose first parameter is the :class:`Investigation` and whose
other parameters are JSON-friendly and typed; its docstring and type hints become the schema the
LLM sees (see ``day2ai.agent.lc_tools``). Tools return compact text (token-capped) and register
what they found as :class:`~day2ai.models.Evidence` with ids. Failures never escape a tool: they
become a gap in the report and an actionable message for the caller.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec

from day2ai.errors import Day2AIError, InputError
from day2ai.models import (
    Evidence,
    EvidenceSource,
    Gap,
    Incident,
    Selector,
    Step,
    TimeRange,
    Usage,
)
from day2ai.sources.base import Sources
from day2ai.tokens import truncate_to_tokens

P = ParamSpec("P")
ToolFn = Callable[Concatenate["Investigation", P], Awaitable[str]]

DEFAULT_TOOL_TOKENS = 1200


@dataclass
class Investigation:
    """Mutable state of one investigation: what was found, what was done, what is missing."""

    incident: Incident
    sources: Sources
    evidence: list[Evidence] = field(default_factory=list)
    timeline: list[Step] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cache: dict[str, Any] = field(default_factory=dict)  # analysis results shared between tools
    knowledge: Any = None  # a day2ai.knowledge.KnowledgeBase, when configured
    tool_token_cap: int = DEFAULT_TOOL_TOKENS
    listeners: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)

    def add_evidence(
        self,
        source: EvidenceSource,
        query: str,
        summary: str,
        *,
        service: str | None = None,
        strength: float = 0.5,
        time_range: TimeRange | None = None,
        data: dict[str, Any] | None = None,
        selector: Selector | None = None,
    ) -> Evidence:
        from day2ai.redact import redact, redact_data  # evidence reaches every output: no secrets in it

        ev = Evidence(id=f"e{len(self.evidence) + 1}", source=source, query=redact(query), summary=redact(summary),
                      service=service, strength=min(1.0, max(0.0, strength)), time_range=time_range,
                      data=redact_data(data), selector=selector)
        self.evidence.append(ev)
        self.emit("evidence_added", {"evidence": ev})
        return ev

    def add_gap(self, source: str, reason: str) -> None:
        from day2ai.redact import redact

        reason = redact(reason)
        if not any(g.source == source and g.reason == reason for g in self.gaps):
            self.gaps.append(Gap(source=source, reason=reason))

    def add_step(self, step_kind: str, name: str, **fields: Any) -> Step:
        step = Step(index=len(self.timeline) + 1, kind=step_kind, name=name, **fields)
        self.timeline.append(step)
        return step

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(event, payload)


TOOLS: dict[str, Callable[..., Awaitable[str]]] = {}


def tool(fn: ToolFn[P]) -> ToolFn[P]:
    """Register an investigation tool: records a timeline step, caps output, turns errors into gaps."""

    @functools.wraps(fn)
    async def wrapper(inv: Investigation, /, *args: P.args, **kwargs: P.kwargs) -> str:
        bound = inspect.signature(fn).bind(inv, *args, **kwargs)
        arguments = {k: v for k, v in bound.arguments.items() if k != "inv"}
        before = len(inv.evidence)
        await asyncio.sleep(0)  # a cancellation point between tool steps (timeouts, task.cancel())
        step_no = len(inv.timeline) + 1
        inv.emit("step_started", {"step": step_no, "kind": "tool", "name": fn.__name__})
        started = time.perf_counter()
        inv.emit("tool_called", {"name": fn.__name__, "arguments": arguments})
        error: str | None = None
        try:
            text = await fn(inv, *args, **kwargs)
        except InputError as exc:
            error = str(exc)
            text = f"ERROR: {exc}. Check the arguments and try again."
        except Day2AIError as exc:
            error = str(exc)
            inv.add_gap(fn.__name__, str(exc))
            text = f"ERROR: {exc}. This evidence is unavailable; continue with other tools."
        text = truncate_to_tokens(text, inv.tool_token_cap)
        inv.usage.tool_calls += 1
        new_ids = [e.id for e in inv.evidence[before:]]
        step = inv.add_step("tool", fn.__name__, arguments=_jsonable(arguments), summary=text[:200],
                            evidence_ids=new_ids, seconds=time.perf_counter() - started, error=error)
        inv.emit("step_finished", {"step": step_no, "kind": "tool", "name": fn.__name__,
                                   "seconds": step.seconds, "error": error, "evidence_ids": new_ids})
        return text

    TOOLS[fn.__name__] = wrapper
    return wrapper


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | type(None) | list | dict) else str(v)
            for k, v in args.items()}
