"""Investigation events, for bots and notebooks: a callback API and an async iterator.

Callbacks are the ``listeners`` of :class:`~day2ai.agent.base.Investigator`: plain functions
``(kind, payload) -> None`` called synchronously as things happen. :func:`iterate_events` turns
any investigation into an ``async for`` stream of :class:`Event` objects ending with ``finished``.
A listener that raises never breaks the investigation (:func:`guarded`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from day2ai.agent.base import EventListener
from day2ai.models import Report

log = logging.getLogger(__name__)

EventKind = Literal[
    "step_started",  # {"step": int, "kind": "llm" | "triage" | "conclude" | "correction"}
    "llm_called",  # {"step": int, "tokens_in": int, "tokens_out": int, "tool_calls": [names]}
    "tool_called",  # {"name": str, "arguments": dict}
    "evidence_added",  # {"evidence": Evidence}
    "hypothesis_updated",  # {"stage": "triage" | "final" | "fallback", "hypotheses": [Hypothesis]}
    "finished",  # {"report": Report}
    "error",  # {"message": str}
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]


class Event(BaseModel):
    """One thing that happened during an investigation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kind: str
    data: dict[str, Any] = Field(default_factory=dict)
    at: float = Field(default_factory=time.time)


def guarded(listener: EventListener) -> EventListener:
    """Wrap a listener so that its exceptions are logged, not raised into the investigation."""

    def call(kind: str, payload: dict[str, Any]) -> None:
        try:
            listener(kind, payload)
        except Exception:  # a broken notebook widget must not stop an incident investigation
            log.exception("event listener %r failed on %s", listener, kind)

    return call


async def iterate_events(
    run: Callable[[list[EventListener]], Awaitable[Report]],
) -> AsyncIterator[Event]:
    """Run ``run(listeners)`` in a task and yield its events as they come; the last is ``finished``
    (added here when the investigator does not emit it itself).

    If the run raises, an ``error`` event is yielded and the exception is re-raised.
    """
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def push(kind: str, payload: dict[str, Any]) -> None:
        queue.put_nowait(Event(kind=kind, data=payload))

    async def runner() -> Report:
        try:
            return await run([push])
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(runner())
    finished = False
    try:
        while (event := await queue.get()) is not None:
            finished = finished or event.kind == "finished"
            yield event
        try:
            report = task.result()
        except Exception as exc:
            yield Event(kind="error", data={"message": str(exc)})
            raise
        if not finished:  # investigators that do not announce the end themselves
            yield Event(kind="finished", data={"report": report})
    finally:
        if not task.done():
            task.cancel()
