"""The Ray executor: the same jobs, spread over a Ray cluster (``pip install day2ai[ray]``).

Each job is a Ray task with no retries; a task whose worker dies (killed, out of memory) or that
passes its timeout (the task's worker exits) gives an error for its item only. At most one task
per cluster CPU is in flight. Workers of
a remote cluster need day2ai installed and the job's inputs (bundle paths) readable.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from day2ai.errors import InputError
from day2ai.executors import JobResult, _check_timeout
from day2ai.executors._child import describe

TIMEOUT_EXIT = 124
GRACE_S = 60.0  # beyond the job's own timeout, how long the driver waits for a silent worker


def _run_job(fn: Callable[[Any], Any], item: Any, timeout: float | None) -> tuple[Any, str | None, float]:
    """The Ray task: ``fn(item)`` with its failure and duration captured (module-level, picklable).

    With a ``timeout`` the job runs in a thread; past the timeout the worker process exits, which
    stops the job for certain (the driver reports that item as timed out; Ray starts a new worker).
    """
    started = time.perf_counter()
    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["value"] = fn(item)
        except Exception as exc:
            box["error"] = describe(exc)

    if timeout is None:
        call()
    else:
        runner = threading.Thread(target=call, daemon=True)
        runner.start()
        runner.join(timeout)
        if runner.is_alive():
            os._exit(TIMEOUT_EXIT)
    return box.get("value"), box.get("error"), time.perf_counter() - started


class RayExecutor:
    """Jobs as Ray tasks. ``address``: ``"auto"`` (running cluster, else a local one), ``"local"``
    (a new local cluster of ``workers`` CPUs) or a cluster address (``ray://host:10001``)."""

    name = "ray"

    def __init__(self, address: str = "auto", *, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise InputError(f"Ray is not installed ({exc}); install day2ai[ray]") from None
        self._ray = ray
        if not ray.is_initialized():
            self._init(address, workers)
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]

    def _init(self, address: str, workers: int | None) -> None:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        local = address in ("auto", "local")
        if local:  # local workers import day2ai (and the job's module) the way this process does
            path = os.pathsep.join(p for p in sys.path if p)
            options["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
        try:
            if address == "auto":
                try:
                    self._ray.init(address="auto", **options)  # the running cluster, if any
                    return
                except ConnectionError:
                    pass
            if address in ("auto", "local"):
                self._ray.init(num_cpus=workers, **options)
            else:
                self._ray.init(address=address, **options)
        except Exception as exc:  # a cluster that is not there is bad input, not a crash
            raise InputError(f"cannot connect to Ray at {address!r}: {describe(exc)}") from None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], *,
            timeout: float | None = None) -> Iterator[JobResult]:
        _check_timeout(timeout)
        ray = self._ray
        task = ray.remote(max_retries=0)(_run_job)
        fn_ref = ray.put(fn)
        pending = iter(enumerate(items))
        running: dict[Any, tuple[int, Any, float]] = {}
        limit = None if timeout is None else timeout + GRACE_S  # the job stops itself at ``timeout``
        try:
            while True:
                while len(running) < self.workers and (nxt := next(pending, None)) is not None:
                    running[task.remote(fn_ref, nxt[1], timeout)] = (nxt[0], nxt[1], time.perf_counter())
                if not running:
                    return
                wait_s = None if limit is None else max(
                    0.0, min(s + limit for _, _, s in running.values()) - time.perf_counter())
                ready, _ = ray.wait(list(running), num_returns=1, timeout=wait_s)
                for ref in ready:
                    yield self._finish(ref, running.pop(ref), timeout)
                now = time.perf_counter()
                for ref in [r for r, (_, _, s) in running.items() if limit is not None and now - s >= limit]:
                    ray.cancel(ref, force=True)
                    index, item, started = running.pop(ref)
                    yield JobResult(index, item, None, f"TimeoutError: stopped after {timeout:g} s", now - started)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)

    def _finish(self, ref: Any, job: tuple[int, Any, float], timeout: float | None) -> JobResult:
        index, item, started = job
        try:
            value, error, seconds = self._ray.get(ref)
        except Exception as exc:  # the worker died (killed, out of memory, or stopped at the timeout)
            seconds = time.perf_counter() - started
            if timeout is not None and seconds >= timeout:
                return JobResult(index, item, None, f"TimeoutError: stopped after {timeout:g} s", seconds)
            return JobResult(index, item, None, f"worker failed: {describe(exc)}", seconds)
        return JobResult(index, item, value, error, seconds)

    def close(self) -> None:
        return None
