"""Run one pure job over many inputs: in this process, in a local pool of processes, or on Ray.

Executors know nothing about the job: ``fn`` is a picklable module-level function and the items
are small (paths, dicts), so nothing big travels through the driver. ``Executor.map`` yields one
:class:`JobResult` per item *in completion order*; a job that raises, times out or whose worker
dies (killed, out of memory) gives a result with ``error`` set and never stops the others::

    from day2ai.executors import get_executor

    for r in get_executor(workers=4).map(score_bundle, paths, timeout=60):
        print(r.index, r.error or r.value)

``get_executor()`` is in-process; ``workers=N`` a local pool of N processes (forked from a
preloaded server; a killed or timed-out job takes only its own worker down, which is replaced);
``ray="auto" | "local" | ADDRESS`` a Ray cluster (``pip install day2ai[ray]``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Protocol, cast

from day2ai.errors import InputError
from day2ai.executors._child import Worker, _needs_main, describe


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job: ``value`` when it succeeded, else ``error`` (one line)."""

    index: int
    item: Any
    value: Any
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(Protocol):
    """Runs ``fn`` over ``items``; ``timeout`` bounds each job in seconds."""

    name: str
    workers: int

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *,
            timeout: float | None = None) -> Iterator[JobResult]: ...

    def close(self) -> None: ...


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout <= 0:
        raise InputError(f"timeout must be positive, got {timeout}")


class InProcessExecutor:
    """Runs jobs one after another in this process (no pickling, easiest to debug).

    A running Python function cannot be stopped from outside, so with a ``timeout`` each job runs
    in a child process of its own, one at a time.
    """

    name = "in-process"
    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *,
            timeout: float | None = None) -> Iterator[JobResult]:
        _check_timeout(timeout)
        if timeout is not None:
            yield from ProcessExecutor(1).map(fn, items, timeout=timeout)
            return
        for index, item in enumerate(items):
            started = time.perf_counter()
            try:
                value, error = fn(item), None
            except Exception as exc:  # a failing job is a result, not the end of the run
                value, error = None, describe(exc)
            yield JobResult(index, item, value, error, time.perf_counter() - started)

    def close(self) -> None:
        return None


class ProcessExecutor:
    """At most ``workers`` jobs at once in worker processes, warm from one job to the next; a job
    past its timeout is stopped by killing its worker, and a dead worker is replaced."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise InputError(f"workers must be at least 1, got {count}")
        self.workers = count

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *,
            timeout: float | None = None) -> Iterator[JobResult]:
        _check_timeout(timeout)
        pending = iter(enumerate(items))
        running: dict[Worker, tuple[int, Any, float]] = {}
        idle: list[Worker] = []
        try:
            while True:
                while len(running) < self.workers and (nxt := next(pending, None)) is not None:
                    worker = _take(idle, fn, nxt[1])
                    worker.submit(fn, nxt[1])
                    running[worker] = (nxt[0], nxt[1], time.perf_counter())
                if not running:
                    return
                ready = cast(list[Worker], wait(list(running), timeout=_next_deadline(running.values(), timeout)))  # type: ignore[arg-type]
                for worker in ready:
                    yield self._finish(worker, running.pop(worker))
                    if worker.alive:
                        idle.append(worker)
                for worker in _expired(running, timeout):
                    worker.kill()
                    index, item, started = running.pop(worker)
                    yield JobResult(index, item, None, f"TimeoutError: stopped after {timeout:g} s",
                                    time.perf_counter() - started)
        finally:
            for worker in [*running, *idle]:
                worker.close()

    @staticmethod
    def _finish(worker: Worker, job: tuple[int, Any, float]) -> JobResult:
        index, item, started = job
        while (message := worker.receive())[0] == "event":
            continue  # plain map jobs do not stream; ignore stray events
        seconds = time.perf_counter() - started
        if message[0] == "ok":
            return JobResult(index, item, message[1], None, seconds)
        return JobResult(index, item, None, str(message[1]), seconds)

    def close(self) -> None:
        return None


def _take(idle: list[Worker], fn: Callable[[Any], Any], item: Any) -> Worker:
    """A warm worker of this run that can take the job, else a new one."""
    needs_main = _needs_main(fn, item)
    for worker in idle:
        if worker.has_main or not needs_main:
            idle.remove(worker)
            return worker
    return Worker(has_main=needs_main)


def _next_deadline(jobs: Iterable[tuple[int, Any, float]], timeout: float | None) -> float | None:
    if timeout is None:
        return None
    now = time.perf_counter()
    return max(0.0, min(started + timeout - now for _, _, started in jobs))


def _expired(running: dict[Worker, tuple[int, Any, float]], timeout: float | None) -> list[Worker]:
    if timeout is None:
        return []
    now = time.perf_counter()
    return [c for c, (_, _, started) in running.items() if now - started >= timeout]


def get_executor(workers: int | None = None, ray: str | None = None) -> Executor:
    """In-process by default; ``workers=N`` a local process pool (0: one per core); ``ray`` a Ray cluster
    (``"auto"``: the running cluster, else a local one; ``"local"``: a new local one; else an address).
    With Ray, ``workers`` caps the CPUs of a local cluster."""
    if ray:
        from day2ai.executors.ray import RayExecutor

        return RayExecutor(ray, workers=workers)
    if workers is None:
        return InProcessExecutor()
    return ProcessExecutor(workers or None)  # 0: one per core


__all__ = ["Executor", "InProcessExecutor", "JobResult", "ProcessExecutor", "get_executor"]
