"""Run a coroutine on an event loop of its own in a worker thread, while the objects it uses keep
doing their I/O on the caller's loop.

This is how a CPU-bound investigation of *live* backends stays off the caller's loop: its analysis
runs in the worker thread, but every call it makes on a source (a coroutine, or an async iterator
read in batches) is sent back to the loop that owns the source's HTTP clients, so connection pools
never cross loops. Cancelling the caller cancels the worker's task, which stops at its next
``await`` (investigation tools have one between steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
BATCH = 256  # items of an async iterator fetched per trip to the owner loop


class OwnerBound:
    """A proxy whose async methods run on ``owner`` (the loop the wrapped object belongs to)."""

    def __init__(self, inner: Any, owner: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if inspect.iscoroutine(result):
                return _await_on(self._owner, result)
            if hasattr(result, "__anext__"):
                return _iterate_on(self._owner, result)
            return result

        return call


async def _await_on(owner: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, owner))


async def _next_batch(it: Any, size: int) -> tuple[list[Any], bool]:
    out: list[Any] = []
    try:
        while len(out) < size:
            out.append(await it.__anext__())
    except StopAsyncIteration:
        return out, True
    return out, False


async def _iterate_on(owner: asyncio.AbstractEventLoop, it: Any) -> AsyncIterator[Any]:
    done = False
    try:
        while not done:
            batch, done = await _await_on(owner, _next_batch(it, BATCH))
            for item in batch:
                yield item
    finally:
        if not done and hasattr(it, "aclose"):
            asyncio.run_coroutine_threadsafe(it.aclose(), owner)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def run_in_thread(make: Callable[[asyncio.AbstractEventLoop], Awaitable[T]]) -> T:
    """Await ``make(owner_loop)`` run on a new loop in a thread of its own; cancellation is passed on."""
    owner = asyncio.get_running_loop()
    result: asyncio.Future[T] = owner.create_future()
    result.add_done_callback(_retrieve)  # after a cancel nobody reads it: no "never retrieved" noise
    started = threading.Event()
    state: dict[str, Any] = {}

    def settle(value: Any, error: BaseException | None) -> None:
        if result.done():
            return
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(value)

    async def main() -> T:
        state["loop"], state["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await make(owner)

    def work() -> None:
        try:
            value: Any = asyncio.run(main())
            error: BaseException | None = None
        except BaseException as exc:  # delivered to the awaiting caller
            value, error = None, exc
        finally:
            started.set()
        with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody is waiting
            owner.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=work, name="day2ai-investigation", daemon=True).start()
    try:
        return await asyncio.shield(result)
    except asyncio.CancelledError:
        await asyncio.to_thread(started.wait, 5.0)
        task, loop = state.get("task"), state.get("loop")
        if task is not None and loop is not None:
            with contextlib.suppress(RuntimeError):  # the worker loop has already finished
                loop.call_soon_threadsafe(task.cancel)
        raise


__all__ = ["OwnerBound", "run_in_thread"]
