"""How an investigation runs without holding the caller's event loop, as a stream of events.

* A bundle on disk (a path, or a loaded :class:`Bundle`) with a CPU-bound investigator (the
  offline one, or any investigator with ``cpu_bound = True``) runs in a child process of its own
  (:mod:`day2ai.executors._child`); its events come back through a pipe while it runs, and
  cancelling the awaiting task (``task.cancel()``, ``asyncio.wait_for``) kills the child at once.
  A knowledge base is reopened in the child from its path (or Chroma server).
* An I/O-bound investigator with a CPU-bound offline ``triage`` (the LLM investigator) stays on
  the loop for its model calls, and its triage of a bundle on disk runs in a child process.
* A CPU-bound investigator that cannot go to a child (live backends as an ``(incident, sources)``
  pair, or a knowledge base that cannot be sent) runs on a loop of its own in a worker thread;
  its sources' calls are sent back to the caller's loop, where their HTTP clients live
  (:mod:`day2ai.executors._thread`). Cancelling stops it at its next tool step.
* Anything else (an I/O-bound investigator, or ``offload=False``) runs on the caller's loop;
  every tool step is a cancellation point.

A long-running service can call :func:`warm_up` at start so that its first investigation does
not wait for the forkserver to import day2ai. Listeners are called in the caller's process as
events arrive; one that raises is logged and ignored. The stream ends with exactly one ``done``
(``data["report"]``) or ``failed`` event.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import pickle
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from day2ai.agent.base import EventListener, Investigator
from day2ai.agent.events import Event, guarded
from day2ai.errors import Day2AIError
from day2ai.executors._child import Emit, Message, Worker, acquire, describe, rebuild_exception, release, warm_up
from day2ai.executors._thread import OwnerBound, run_in_thread
from day2ai.models import Incident, Report
from day2ai.sources.base import Sources
from day2ai.sources.bundle import Bundle, load_bundle

Target = str | Path | Bundle | tuple[Incident, Sources]
RENAMED = {"hypothesis_updated": "hypotheses"}
__all__ = ["ChildTriage", "investigate_job", "knowledge_spec", "open_knowledge", "process_spec", "stream", "warm_up",
           "with_child_triage"]
Job = Callable[[dict[str, Any], Emit], Any]


class InvestigationFailed(Day2AIError):
    """An investigation that failed in its worker process with an error that could not be sent back."""


@dataclass
class _Outcome:
    report: Any = None  # the Report (or, for a triage job, its (Report, dossier) pair)
    error: BaseException | None = None


# ---------------------------------------------------------------------------- the child's side
def investigate_job(spec: dict[str, Any], emit: Emit) -> Report:
    """Run in a child process: load the bundle at ``spec["path"]`` and investigate it, emitting events."""
    bundle = load_bundle(spec["path"])
    investigator = spec["investigator"]
    if investigator is None:
        from day2ai.agent.offline import OfflineInvestigator

        investigator = OfflineInvestigator()
    knowledge = open_knowledge(spec["knowledge"])
    coro = investigator.investigate(bundle.incident, bundle.sources, knowledge=knowledge,
                                    listeners=[_safe_emit(emit)])
    report: Report = asyncio.run(coro)
    return bundle.with_data_gaps(report)  # skipped lines / limits hit while reading (E, #16)


def triage_job(spec: dict[str, Any], emit: Emit) -> tuple[Report, str]:
    """Run in a child process: an LLM investigator's offline triage of the bundle at ``spec["path"]``."""
    bundle = load_bundle(spec["path"])
    coro = spec["investigator"].triage(bundle.incident, bundle.sources, knowledge=open_knowledge(spec["knowledge"]),
                                       listeners=[_safe_emit(emit)], with_dossier=spec["with_dossier"])
    report, dossier = asyncio.run(coro)
    return bundle.with_data_gaps(report), dossier


def _safe_emit(emit: Emit) -> EventListener:
    def send(kind: str, data: dict[str, Any]) -> None:
        try:
            emit(kind, data)
        except (pickle.PicklingError, TypeError, AttributeError):  # an unpicklable payload: send its text
            emit(kind, {k: repr(v) for k, v in data.items()})

    return send


def knowledge_spec(knowledge: Any) -> tuple[bool, Any]:
    """``(True, spec)`` when ``knowledge`` can be reopened in another process, else ``(False, None)``."""
    if knowledge is None:
        return True, None
    if isinstance(knowledge, str | Path):
        return True, {"path": str(knowledge)}
    kb_module = sys.modules.get("day2ai.knowledge.base")
    if kb_module is not None and isinstance(knowledge, kb_module.KnowledgeBase):
        if getattr(knowledge, "_embedder", None) is not None:
            return False, None  # a custom embedder object stays where it was made
        return True, {"path": getattr(knowledge, "_path", None), "server": getattr(knowledge, "_server", None),
                      "collection": getattr(knowledge, "_collection", None), "fusion": knowledge.fusion}
    return False, None


def open_knowledge(spec: dict[str, Any] | None) -> Any:
    """The knowledge base a :func:`knowledge_spec` describes (None for none)."""
    if spec is None:
        return None
    from day2ai.knowledge import KnowledgeBase

    return KnowledgeBase(**{k: v for k, v in spec.items() if v is not None})


# ---------------------------------------------------------------------------- the caller's side
def is_cpu_bound(investigator: Investigator | None) -> bool:
    """Whether an investigator computes rather than waits (the offline one does; LLM agents wait)."""
    if investigator is None:
        return True
    flag = getattr(investigator, "cpu_bound", None)
    if flag is not None:
        return bool(flag)
    offline = sys.modules.get("day2ai.agent.offline")
    return offline is not None and isinstance(investigator, offline.OfflineInvestigator)


def process_spec(target: Target, investigator: Investigator | None, knowledge: Any) -> dict[str, Any] | None:
    """What a child process needs to run this investigation, or None if it must run here."""
    if isinstance(target, tuple) or not is_cpu_bound(investigator):
        return None
    path = target.path if isinstance(target, Bundle) else Path(target)
    sendable, kb = knowledge_spec(knowledge)
    if not sendable:
        return None
    if investigator is not None:
        try:
            pickle.dumps(investigator)
        except Exception:
            return None
    return {"path": str(path), "investigator": investigator, "knowledge": kb}


async def stream(
    target: Target,
    investigator: Investigator,
    *,
    knowledge: Any = None,
    listeners: list[EventListener] | None = None,
    offload: bool = True,
    outcome: _Outcome | None = None,
) -> AsyncGenerator[Event, None]:
    """Run the investigation and yield its events; the last is ``done`` or ``failed``.

    ``outcome`` (internal) receives the report or the original exception.
    """
    outcome = outcome if outcome is not None else _Outcome()
    calls = [guarded(x) for x in listeners or []]
    spec = process_spec(target, None if _is_default(investigator) else investigator, knowledge) if offload else None
    if spec is None and offload:
        investigator = with_child_triage(target, investigator, knowledge)
    threaded = offload and spec is None and is_cpu_bound(investigator)
    source = (_in_child(spec, outcome) if spec is not None
              else _in_loop(target, investigator, knowledge, outcome, threaded=threaded))
    saw_hypotheses = False
    async with aclosing(source):
        async for kind, data in source:
            kind = RENAMED.get(kind, kind)
            if kind == "finished":
                continue  # announced below as ``done``
            saw_hypotheses = saw_hypotheses or kind == "hypotheses"
            for call in calls:
                call(kind, data)
            yield Event(type=kind, data=data)
    if outcome.report is not None:
        if not saw_hypotheses:
            data = {"stage": "final", "hypotheses": list(outcome.report.hypotheses)}
            for call in calls:
                call("hypotheses", data)
            yield Event(type="hypotheses", data=data)
        yield Event(type="done", data={"report": outcome.report})
    else:
        yield Event(type="failed", data={"error": describe(outcome.error or RuntimeError("no report"))})


def _is_default(investigator: Investigator) -> bool:
    """The plain offline investigator needs no pickling: the child builds its own."""
    offline = sys.modules.get("day2ai.agent.offline")
    return (offline is not None and type(investigator) is offline.OfflineInvestigator
            and vars(investigator) == vars(offline.OfflineInvestigator()))


async def _start(spec: dict[str, Any], job: Job) -> Worker:
    """A warm worker running the job (started off the loop: a new one waits for the forkserver)."""

    def start() -> Worker:
        worker = acquire(job, spec)
        try:
            worker.submit(job, spec, stream=True)
        except Exception:
            worker.kill()
            raise
        return worker

    starting = asyncio.ensure_future(asyncio.to_thread(start))
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        starting.add_done_callback(_kill_started)
        raise


def _kill_started(starting: asyncio.Future[Worker]) -> None:
    if not starting.cancelled() and starting.exception() is None:
        starting.result().kill()


async def _in_child(spec: dict[str, Any], outcome: _Outcome,
                    job: Job = investigate_job) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    worker = await _start(spec, job)
    try:
        while True:
            message = await _receive(worker)
            if message[0] == "event":
                yield message[1], message[2]
                continue
            if message[0] == "ok":
                outcome.report = message[1]
            else:
                outcome.error = _rebuild_error(message)
            return
    finally:
        if worker.busy:
            worker.kill()  # cancelled, timed out or abandoned: the work stops with the caller
        else:
            release(worker)  # finished: back to the pool, warm for the next investigation


async def _receive(child: Worker) -> Message:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = child.fileno()
    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    return child.receive()


def _rebuild_error(message: Message) -> BaseException:
    """The child's exception when it could be sent back whole, else a Day2AIError with its text."""
    exc = rebuild_exception(message[3]) if len(message) > 3 and message[3] is not None else None
    return exc if exc is not None else InvestigationFailed(str(message[1]))


async def _in_loop(target: Target, investigator: Investigator, knowledge: Any, outcome: _Outcome,
                   threaded: bool = False) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """Run here; ``threaded``: on a loop of its own in a worker thread, live sources' I/O staying here."""
    owner = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

    def push(kind: str, data: dict[str, Any]) -> None:  # from either thread, in order
        owner.call_soon_threadsafe(queue.put_nowait, (kind, data))

    async def investigate(incident: Incident, sources: Sources) -> Report:
        if not threaded:
            return await investigator.investigate(incident, sources, knowledge=knowledge, listeners=[push])
        live = isinstance(target, tuple)  # a bundle's sources read files: they may run in the thread

        def make(loop: asyncio.AbstractEventLoop) -> Awaitable[Report]:
            used = owner_bound_sources(sources, loop) if live else sources
            return investigator.investigate(incident, used, knowledge=knowledge, listeners=[push])

        return await run_in_thread(make)

    async def run() -> None:
        try:
            bundle: Bundle | None = None
            if isinstance(target, tuple):
                incident, sources = target
            else:
                bundle = target if isinstance(target, Bundle) else await asyncio.to_thread(load_bundle, target)
                incident, sources = bundle.incident, bundle.sources
            outcome.report = await investigate(incident, sources)
            if bundle is not None:  # skipped lines / limits hit while reading (E, #16)
                outcome.report = bundle.with_data_gaps(outcome.report)
        except Exception as exc:
            outcome.error = exc
        finally:
            owner.call_soon_threadsafe(queue.put_nowait, None)

    task = asyncio.create_task(run())
    try:
        while (item := await queue.get()) is not None:
            yield item
        await task
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def owner_bound_sources(sources: Sources, owner: asyncio.AbstractEventLoop) -> Sources:
    """``sources`` whose calls run on ``owner`` (where their HTTP clients live), from any thread."""
    kinds = ("metrics", "logs", "traces", "changes", "topology")
    bound: dict[str, Any] = {k: OwnerBound(v, owner) for k in kinds if (v := getattr(sources, k)) is not None}
    return dataclasses.replace(sources, **bound)


# ---------------------------------------------------------------------------- LLM investigators' triage
class ChildTriage:
    """An LLM investigator's CPU-bound offline triage, run in a child process on a bundle on disk,
    so that the model conversation (I/O-bound) stays on the loop and the analysis never holds it."""

    cpu_bound = True

    def __init__(self, path: Path, inner: Any, knowledge: Any) -> None:
        self.path, self.inner, self.knowledge = path, inner, knowledge
        self.name = str(getattr(inner, "name", "triage"))

    async def triage(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                     listeners: list[EventListener] | None = None, with_dossier: bool = True) -> tuple[Report, str]:
        spec = {"path": str(self.path), "investigator": self.inner, "knowledge": self.knowledge,
                "with_dossier": with_dossier}
        outcome = _Outcome()
        events = _in_child(spec, outcome, triage_job)
        async with aclosing(events):
            async for kind, data in events:
                for listener in listeners or []:
                    listener(kind, data)
        if outcome.error is not None:
            raise outcome.error
        report, dossier = outcome.report
        return report, dossier

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: list[EventListener] | None = None) -> Report:
        report, _ = await self.triage(incident, sources, knowledge=knowledge, listeners=listeners, with_dossier=False)
        return report


def with_child_triage(target: Target, investigator: Investigator, knowledge: Any) -> Investigator:
    """A copy of an (I/O-bound) investigator whose CPU-bound ``triage`` runs in a child process,
    when the target is a bundle on disk; else the investigator unchanged."""
    inner = getattr(investigator, "triage", None)
    if isinstance(target, tuple) or inner is None or callable(getattr(type(investigator), "triage", None)):
        return investigator  # no triage attribute (or ``triage`` is a method, not a sub-investigator)
    if isinstance(inner, ChildTriage) or not is_cpu_bound(inner) or not callable(getattr(inner, "triage", None)):
        return investigator
    sendable, kb = knowledge_spec(knowledge)
    try:
        pickle.dumps(inner)
    except Exception:
        sendable = False
    if not sendable:
        return investigator
    path = target.path if isinstance(target, Bundle) else Path(target)
    clone = copy.copy(investigator)
    clone.triage = ChildTriage(path, inner, kb)  # type: ignore[attr-defined]
    return clone
