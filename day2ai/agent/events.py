"""Investigation events, for bots and notebooks: a callback API and an async iterator.

Callbacks are the ``listeners`` of :class:`~day2ai.agent.base.Investigator`: plain functions
``(type, payload) -> None`` called as things happen. :func:`day2ai.astream` turns any
investigation into an ``async for`` stream of :class:`Event` objects ending with exactly one
``done`` (``data["report"]``) or ``failed`` (``data["error"]``). A listener that raises never
breaks the investigation (:func:`guarded`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from day2ai.agent.base import EventListener
from day2ai.models import Report

log = logging.getLogger(__name__)

EventType = Literal[
    "step_started",  # {"step": str|int, "kind": "tool" | "llm" | "triage" | ..., "name": str}
    "step_finished",  # {"step": str, "kind": "tool", "name": str, "seconds": float, "error": str | None}
    "llm_called",  # {"step": int, "tokens_in": int, "tokens_out": int, "tool_calls": [names]}
    "tool_called",  # {"name": str, "arguments": dict}
    "evidence_added",  # {"evidence": Evidence}
    "hypotheses",  # {"stage": "triage" | "final" | "fallback", "hypotheses": [Hypothesis]}
    "hypothesis_updated",  # the LLM investigator's name for ``hypotheses`` (same payload)
    "error",  # {"message": str}: a non-fatal problem the investigator reports and survives
    "finished",  # {"report": Report}: an investigator announcing its own end (astream turns it into done)
    "done",  # {"report": Report}: the last event of a successful astream
    "failed",  # {"error": str}: the last event of a failed or cancelled astream
]
EventKind = EventType  # the older name
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
EVENT_KINDS = EVENT_TYPES
TERMINAL = ("done", "failed")


class Event(BaseModel):
    """One thing that happened during an investigation (``type``, ``data``, ``at`` epoch seconds)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    type: str = Field(validation_alias=AliasChoices("type", "kind"))
    data: dict[str, Any] = Field(default_factory=dict)
    at: float = Field(default_factory=time.time)

    @property
    def kind(self) -> str:
        """The older name of :attr:`type`."""
        return self.type


def guarded(listener: EventListener) -> EventListener:
    """Wrap a listener so that its exceptions are logged, not raised into the investigation."""

    def call(kind: str, payload: dict[str, Any]) -> None:
        try:
            listener(kind, payload)
        except Exception:  # a broken chat hook must not stop an incident investigation
            log.exception("event listener %r failed on %s", listener, kind)

    return call


async def iterate_events(
    run: Callable[[list[EventListener]], Awaitable[Report]],
) -> AsyncIterator[Event]:
    """Run ``run(listeners)`` in a task and yield its events as they come; the last is ``finished``
    (added here when the investigator does not emit it itself).

    If the run raises, an ``error`` event is yielded and the exception is re-raised.
    (:func:`day2ai.astream` is the public stream; this is the investigator-level helper.)
    """
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def push(kind: str, payload: dict[str, Any]) -> None:
        queue.put_nowait(Event(type=kind, data=payload))

    async def runner() -> Report:
        try:
            return await run([push])
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(runner())
    finished = False
    try:
        while (event := await queue.get()) is not None:
            finished = finished or event.type == "finished"
            yield event
        try:
            report = task.result()
        except Exception as exc:
            yield Event(type="error", data={"message": str(exc)})
            raise
        if not finished:  # investigators that do not announce the end themselves
            yield Event(type="finished", data={"report": report})
    finally:
        if not task.done():
            task.cancel()
