"""Investigations running in the background of a long-lived process (the HTTP service, bots).

:class:`RunManager` starts investigations as asyncio tasks, keeps each one's events (JSON-ready
dicts, replayable from the start for late subscribers), its final status and report, and calls
an ``on_end`` hook (the ``--notify-url`` POST) when one ends. The events come from
:func:`day2ai.astream`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from day2ai.models import Report

log = logging.getLogger(__name__)

Status = Literal["running", "done", "failed"]
END_TYPES = ("done", "failed")


def jsonable(value: Any) -> Any:
    """Event payloads as strict-JSON-ready data: a Report becomes the contract JSON, other models their
    dump, NaN and infinities null."""
    if isinstance(value, Report):
        return value.to_contract()
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json", exclude_none=True))
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # strict JSON has no NaN or Infinity
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


async def stream(target: Any, **options: Any) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """``(type, data)`` of each event of one investigation (:func:`day2ai.astream`), ending with
    ``done`` (``data["report"]``: Report) or ``failed`` (``data["error"]``: str). Never raises for a
    failed investigation."""
    from day2ai.api import astream

    try:
        async for event in astream(target, **options):
            data = dict(event.data)
            yield event.type, data
            if event.type in END_TYPES:
                return
    except Exception as exc:  # an investigation that raises ends as a failed event, never a crash
        log.warning("investigation failed: %s", exc)
        yield "failed", {"error": f"{type(exc).__name__}: {exc}"}
        return
    yield "failed", {"error": "the investigation ended without a report"}


@dataclass
class Run:
    """One investigation: its status, its events so far, and its report or error when it ends."""

    id: str
    label: str
    status: Status = "running"
    report: Report | None = None
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    ended: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "label": self.label}
        if self.report is not None:
            out["report"] = self.report.to_contract()
        if self.error is not None:
            out["error"] = self.error
        return out

    def record(self, kind: str, data: dict[str, Any], max_events: int) -> None:
        if len(self.events) < max_events or kind in END_TYPES:
            self.events.append({"seq": len(self.events), "type": kind, "at": time.time(), "data": jsonable(data)})
        self.changed.set()
        self.changed = asyncio.Event()


OnEnd = Callable[[Run], Awaitable[None]]
Cleanup = Callable[[], Awaitable[None]]


class RunManager:
    """Starts investigations, keeps the last ``max_runs`` of them, and streams their events.

    At most ``concurrency`` investigations run at once (the others wait, status ``running``).
    """

    def __init__(self, *, on_end: OnEnd | None = None, concurrency: int = 4, max_runs: int = 1000,
                 max_events: int = 5000, options: dict[str, Any] | None = None):
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._keys: dict[str, str] = {}
        self._on_end = on_end
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._max_runs = max_runs
        self._max_events = max_events
        self._options = dict(options or {})
        self._counter = itertools.count(1)

    def get(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def list(self) -> list[Run]:
        return list(self._runs.values())

    def by_key(self, key: str) -> Run | None:
        """The run started with de-duplication ``key``, if it is still kept."""
        run_id = self._keys.get(key)
        return self._runs.get(run_id) if run_id is not None else None

    def start(self, target: Any, *, label: str, key: str | None = None, cleanup: Cleanup | None = None) -> Run:
        """Start investigating ``target`` (bundle path or ``(incident, sources)``); returns at once.

        ``key`` de-duplicates: a second start with the same key returns the first run.
        ``cleanup`` runs when the investigation ends (e.g. closing live backends' clients).
        """
        if key is not None and (known := self.by_key(key)) is not None:
            return known
        run = Run(id=f"inv-{next(self._counter)}-{secrets.token_hex(4)}", label=label)
        self._runs[run.id] = run
        if key is not None:
            self._keys[key] = run.id
        self._evict()
        run.task = asyncio.create_task(self._drive(run, target, cleanup), name=f"day2ai-{run.id}")
        return run

    async def _drive(self, run: Run, target: Any, cleanup: Cleanup | None) -> None:
        try:
            async with self._slots:
                async for kind, data in stream(target, **self._options):
                    if kind == "done":
                        run.report = data.get("report") if isinstance(data.get("report"), Report) else None
                        if run.report is None:
                            kind, data = "failed", {"error": "the investigation returned no report"}
                    if kind == "failed":
                        run.error = str(data.get("error", "failed"))
                    if kind in END_TYPES:
                        run.status = "done" if kind == "done" else "failed"
                        run.ended = time.time()
                    run.record(kind, data, self._max_events)
        except asyncio.CancelledError:
            run.status, run.error, run.ended = "failed", "cancelled", time.time()
            run.record("failed", {"error": "cancelled"}, self._max_events)
            raise
        finally:
            if cleanup is not None:
                try:
                    await cleanup()
                except Exception:
                    log.exception("cleanup after %s failed", run.id)
            if self._on_end is not None and run.status != "running":
                try:
                    await self._on_end(run)
                except Exception:  # a broken webhook must not take the service down
                    log.exception("end-of-run hook failed for %s", run.id)

    async def events(self, run: Run) -> AsyncIterator[dict[str, Any]]:
        """Every event of ``run`` from the first, then live ones, until its ``done``/``failed``."""
        index = 0
        while True:
            waiter = run.changed
            while index < len(run.events):
                event = run.events[index]
                index += 1
                yield event
                if event["type"] in END_TYPES:
                    return
            if run.status != "running":
                return
            await waiter.wait()

    async def wait(self, run: Run) -> None:
        if run.task is not None:
            await asyncio.shield(run.task)

    def _evict(self) -> None:
        while len(self._runs) > self._max_runs:
            for run_id, run in self._runs.items():
                if run.status != "running":
                    del self._runs[run_id]
                    break
            else:
                return

    async def aclose(self) -> None:
        tasks = [r.task for r in self._runs.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
