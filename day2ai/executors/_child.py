"""Jobs in worker processes, talking to the parent over a pipe, killable at any time.

Workers are forked from a *forkserver* that has already imported day2ai and loaded its tokenizer,
so a worker starts in milliseconds without inheriting the parent's threads or event loop, and it
stays warm across jobs (a shared pool of idle workers: :func:`acquire`, :func:`release`). A job is
a picklable module-level function; a streaming job also receives ``emit(type, data)`` whose
events reach the parent while the job runs. A job that must be stopped is stopped by killing its
worker. Messages from a worker, per job:
``("event", type, data)``, then exactly one ``("ok", value)`` or ``("error", text, traceback,
exception spec or None)`` (see :func:`rebuild_exception`); a child that
dies without a final message is reported as an error naming its exit code.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterator
from multiprocessing.context import ForkServerContext
from typing import Any

Message = tuple[Any, ...]
Emit = Callable[[str, dict[str, Any]], None]

PRELOAD = ["day2ai.executors._warm"]  # imports day2ai and loads the tokenizer once, for every child

_lock = threading.Lock()
_context: ForkServerContext | None = None


def context() -> ForkServerContext:
    """The forkserver context every day2ai child is started from (preloads day2ai once)."""
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def _noop(item: Any) -> Any:
    return item


def warm_up() -> None:
    """Start the forkserver and one worker now (importing day2ai takes a second or two) rather
    than on first use."""
    worker = acquire(_noop, None)
    worker.submit(_noop, None)
    worker.receive()
    release(worker)


def describe(exc: BaseException) -> str:
    """``Type: first line of the message`` (no traceback: errors are data, shown to users)."""
    if isinstance(exc, TimeoutError) and not str(exc):
        return "TimeoutError: timed out"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker's life: run the jobs the parent sends, one at a time, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle

    def emit(kind: str, data: dict[str, Any]) -> None:
        conn.send(("event", kind, data))

    while True:
        try:
            fn, item, stream = conn.recv()
        except (EOFError, OSError):
            return
        try:
            value = fn(item, emit) if stream else fn(item)
            message: Message = ("ok", value)
        except BaseException as exc:  # everything becomes the job's error, reported to the parent
            message = ("error", describe(exc), traceback.format_exc(limit=8), _portable(exc))
        try:
            conn.send(message)
        except Exception as exc:  # an unpicklable result
            conn.send(("error", f"the job's result could not be sent back: {describe(exc)}", ""))


def _portable(exc: BaseException) -> tuple[str, str, tuple[Any, ...], dict[str, Any]] | None:
    """What the parent needs to rebuild ``exc`` (its class path, args and attributes), if picklable."""
    if not isinstance(exc, Exception):
        return None
    spec = (type(exc).__module__, type(exc).__qualname__, exc.args, dict(vars(exc)))
    try:
        pickle.dumps(spec)
    except Exception:
        return None
    return spec


def rebuild_exception(spec: Any) -> Exception | None:
    """The exception :func:`_portable` described, without calling its ``__init__`` (None if impossible)."""
    try:
        module, qualname, args, attrs = spec
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        exc = cls.__new__(cls)
        exc.args = tuple(args)
        exc.__dict__.update(attrs)
    except Exception:
        return None
    return exc if isinstance(exc, Exception) else None


def _needs_main(fn: Callable[..., Any], item: Any) -> bool:
    """Whether the job refers to something defined in the ``__main__`` script."""
    try:
        return b"__main__" in pickle.dumps((fn, item))
    except Exception:
        return True  # let multiprocessing report what cannot be pickled


@contextlib.contextmanager
def _main_hidden(unless: bool) -> Iterator[None]:
    """Start children without re-running the caller's ``__main__`` script in them.

    multiprocessing re-imports the main script in every child it does not fork directly, which
    breaks a bot whose top-level code is ``asyncio.run(main())`` without an ``if __name__`` guard.
    day2ai's own jobs never need it, so the script is hidden while the child starts.
    """
    if unless:
        yield
        return
    with _lock:
        saved = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = saved


class Worker:
    """A child process that runs jobs one at a time: ``fn(item)``, or ``fn(item, emit)`` when
    ``stream``. It stays warm between jobs (caches, imports); killing it stops its job for certain.
    ``has_main``: started with the caller's ``__main__`` (for jobs defined in the main script)."""

    def __init__(self, *, has_main: bool = False) -> None:
        ctx = context()
        mine, theirs = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(theirs,), daemon=True)
        with _main_hidden(unless=has_main):
            self.process.start()
        theirs.close()
        self.conn = mine
        self.has_main = has_main
        self.jobs = 0
        self.busy = False
        self._closed = False

    def fileno(self) -> int:
        return self.conn.fileno()

    @property
    def alive(self) -> bool:
        return not self._closed and self.process.exitcode is None

    def submit(self, fn: Callable[..., Any], item: Any, *, stream: bool = False) -> None:
        """Start a job (the worker must be idle); read its messages with :meth:`receive`."""
        self.conn.send((fn, item, stream))
        self.busy = True
        self.jobs += 1

    def receive(self) -> Message:
        """The job's next message (blocks until one arrives); a dead worker gives a final error."""
        try:
            message: Message = self.conn.recv()
        except (EOFError, OSError) as exc:
            message = ("error", self._death(exc), "")
            self.close()
        except Exception as exc:  # a message that does not unpickle
            message = ("error", f"the job's message could not be read: {describe(exc)}", "")
            self.kill()  # what else is in the pipe cannot be trusted
        if message[0] != "event":
            self.busy = False
        return message

    def _death(self, exc: BaseException) -> str:
        self.process.join(timeout=1.0)
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f"worker process was killed ({name})"
        return f"worker process died (exit code {code}) without a result"

    def kill(self) -> None:
        """Stop the worker and its job now (SIGKILL) and release its pipe."""
        self.close()

    def close(self) -> None:
        """Release the pipe and make sure the process is gone. Never waits (safe on an event loop):
        a worker still running is killed; the forkserver reaps it."""
        if self._closed:
            return
        self._closed = True
        self.conn.close()
        with contextlib.suppress(OSError, ValueError):
            if self.process.exitcode is None:
                self.process.kill()


MAX_JOBS = 50  # a worker is replaced after this many jobs (bounds what a long-running bot accumulates)
_idle: list[Worker] = []
_pool_lock = threading.Lock()


def acquire(fn: Callable[..., Any], item: Any) -> Worker:
    """An idle warm worker for this job, or a new one (one with ``__main__`` if the job needs it)."""
    needs_main = _needs_main(fn, item)
    with _pool_lock:
        while _idle:
            worker = _idle.pop()
            if worker.alive and (worker.has_main or not needs_main):
                return worker
            worker.close()
    return Worker(has_main=needs_main)


def release(worker: Worker) -> None:
    """Give a worker whose job has finished back to the shared pool (or close it)."""
    if worker.alive and not worker.busy and worker.jobs < MAX_JOBS:
        with _pool_lock:
            if len(_idle) < (os.cpu_count() or 1):
                _idle.append(worker)
                return
    worker.close()
