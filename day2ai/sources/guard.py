"""Wrappers that keep a failing backend from ending an investigation.

:class:`Guarded` wraps any source and guarantees its methods raise only
:class:`~day2ai.errors.Day2AIError` (a bug or an unexpected answer in a backend module becomes a
:class:`~day2ai.errors.SourceError` naming the backend), with secrets scrubbed from the message;
the tools layer turns those into report gaps. :class:`CombinedChanges` merges several change
backends (Kubernetes + Argo CD + GitHub) into one ChangesSource, failing only if all fail.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from day2ai.errors import Day2AIError, SourceError, SourceUnavailable
from day2ai.models import Topology
from day2ai.sources.base import (
    Change,
    ChangeQuery,
    LogQuery,
    LogRecord,
    MetricQuery,
    MetricSeries,
    Span,
    SpanQuery,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def _identity(text: str) -> str:
    return text


class Guarded:
    """Forward to ``inner``; any non-day2ai exception becomes a SourceError of ``backend``."""

    def __init__(self, inner: Any, backend: str, scrub: Callable[[str], str] = _identity):
        self.inner = inner
        self.backend = backend
        self._scrub = scrub

    def _translate(self, exc: BaseException) -> Day2AIError:
        if isinstance(exc, SourceError):
            return type(exc)(exc.backend, self._scrub(exc.problem))
        if isinstance(exc, Day2AIError):
            return exc
        return SourceError(self.backend, self._scrub(f"unexpected failure ({type(exc).__name__}: "
                                                     f"{str(exc)[:200]})"))

    async def _stream(self, it: AsyncIterator[T]) -> AsyncIterator[T]:
        try:
            async for item in it:
                yield item
        except Exception as exc:
            raise self._translate(exc) from None

    def series(self, query: MetricQuery) -> AsyncIterator[MetricSeries]:
        return self._stream(self.inner.series(query))

    def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]:
        return self._stream(self.inner.logs(query))

    def spans(self, query: SpanQuery) -> AsyncIterator[Span]:
        return self._stream(self.inner.spans(query))

    def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        return self._stream(self.inner.changes(query))

    async def topology(self) -> Topology | None:
        try:
            result: Topology | None = await self.inner.topology()
        except Exception as exc:
            raise self._translate(exc) from None
        return result


class CombinedChanges:
    """Changes from several backends, merged in time order.

    A backend that fails is skipped (and logged); after the changes of the others are yielded,
    one error naming every failed backend is raised so that the gap is named. ``failures`` keeps
    the errors of the last call.
    """

    def __init__(self, parts: Sequence[tuple[str, Any]]):
        self.parts = list(parts)
        self.failures: list[SourceError] = []

    async def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        self.failures = []
        merged: list[Change] = []
        for name, source in self.parts:
            try:
                merged.extend([c async for c in source.changes(query)])
            except Day2AIError as exc:
                err = exc if isinstance(exc, SourceError) else SourceError(name, str(exc))
                log.warning("changes from %s unavailable: %s", name, err)
                self.failures.append(err)
        if self.failures and len(self.failures) == len(self.parts):
            raise self._combined("")
        merged.sort(key=lambda c: c.timestamp)
        for change in merged:
            yield change
        if self.failures:
            raise self._combined(" (changes from the other backends were returned)")

    def _combined(self, suffix: str) -> SourceError:
        """One error naming every failed backend (unavailable only if all of them were)."""
        if len(self.failures) == 1 and not suffix:
            return self.failures[0]
        names = "+".join(f.backend for f in self.failures)
        problem = "; ".join(str(f) for f in self.failures) + suffix
        unavailable = all(isinstance(f, SourceUnavailable) for f in self.failures)
        cls = SourceUnavailable if unavailable else SourceError
        return cls(names, problem)
