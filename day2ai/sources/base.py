"""Telemetry records, the questions investigators ask, and the source Protocols.

Every backend (an incident bundle, Prometheus, Loki, Jaeger, Kubernetes, ...) implements some of
these small Protocols in one module of its own. Results stream as async iterators so that a
bundle with millions of lines or a paginated HTTP API never has to be held in memory at once.
Times are float epoch seconds (UTC).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from day2ai.models import ChangeKind, Topology

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
# Logs and spans are read from this long before the window (or the explicit baseline, if earlier):
# a short explicit baseline is usually cut from a longer fault-free recording, and every request
# recorded before the onset is fault-free evidence. Five minutes: the gap that separates two
# recordings of requests (see day2ai.analysis.patterns.MAX_GAP_S), not fitted.
DENSE_LOOKBACK_S = 300.0
LEVEL_ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "CRITICAL": "FATAL", "CRIT": "FATAL", "PANIC": "FATAL"}


def normalize_level(level: object) -> str | None:
    """Upper-case a log level and map common aliases (``warning`` -> ``WARN``); None stays None."""
    if level is None:
        return None
    text = str(level).strip().upper()
    if not text:
        return None
    return LEVEL_ALIASES.get(text, text)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LogRecord(_Record):
    timestamp: float
    service: str
    message: str
    level: str | None = None
    trace_id: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class Span(_Record):
    trace_id: str
    span_id: str
    service: str
    name: str
    start: float
    duration_ms: float
    parent_span_id: str | None = None
    status: Literal["ok", "error"] | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class Change(_Record):
    timestamp: float
    service: str
    kind: ChangeKind
    summary: str
    version: str | None = None
    previous_version: str | None = None
    author: str | None = None


class MetricSeries(_Record):
    """One time series, as in a Prometheus range-query result; NaN marks missing points."""

    name: str
    service: str
    labels: dict[str, str] = Field(default_factory=dict)
    timestamps: list[float]
    values: list[float]


@dataclass(frozen=True)
class TimeFilter:
    start: float | None = None
    end: float | None = None

    def contains(self, t: float) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t <= self.end)


@dataclass(frozen=True)
class LogQuery(TimeFilter):
    services: tuple[str, ...] | None = None
    min_level: str | None = None
    contains_text: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class SpanQuery(TimeFilter):
    services: tuple[str, ...] | None = None
    errors_only: bool = False
    min_duration_ms: float | None = None
    limit: int | None = None


@dataclass(frozen=True)
class MetricQuery(TimeFilter):
    services: tuple[str, ...] | None = None
    names: tuple[str, ...] | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeQuery(TimeFilter):
    services: tuple[str, ...] | None = None
    kinds: tuple[ChangeKind, ...] | None = None


@runtime_checkable
class MetricsSource(Protocol):
    def series(self, query: MetricQuery) -> AsyncIterator[MetricSeries]: ...


@runtime_checkable
class LogsSource(Protocol):
    def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]: ...


@runtime_checkable
class TracesSource(Protocol):
    def spans(self, query: SpanQuery) -> AsyncIterator[Span]: ...


@runtime_checkable
class ChangesSource(Protocol):
    def changes(self, query: ChangeQuery) -> AsyncIterator[Change]: ...


@runtime_checkable
class TopologySource(Protocol):
    async def topology(self) -> Topology | None: ...


@dataclass
class Sources:
    """What an investigator may read. Any of them may be absent; absence becomes a report gap."""

    metrics: MetricsSource | None = None
    logs: LogsSource | None = None
    traces: TracesSource | None = None
    changes: ChangesSource | None = None
    topology: TopologySource | None = None
    names: dict[str, str] = field(default_factory=dict)  # kind -> backend name, for gap messages

    def missing(self) -> list[str]:
        return [k for k in ("metrics", "logs", "traces", "changes", "topology") if getattr(self, k) is None]


def log_matches(rec: LogRecord, q: LogQuery) -> bool:
    """Whether a record answers a query (used by sources that filter client-side)."""
    if not q.contains(rec.timestamp):
        return False
    if q.services is not None and rec.service not in q.services:
        return False
    if q.min_level is not None:
        rank = LEVEL_RANK.get(rec.level or "", -1)
        if rank < LEVEL_RANK.get(q.min_level.upper(), 0):
            return False
    return q.contains_text is None or q.contains_text in rec.message


def span_matches(span: Span, q: SpanQuery) -> bool:
    if not q.contains(span.start):
        return False
    if q.services is not None and span.service not in q.services:
        return False
    if q.errors_only and span.status != "error":
        return False
    return q.min_duration_ms is None or span.duration_ms >= q.min_duration_ms
