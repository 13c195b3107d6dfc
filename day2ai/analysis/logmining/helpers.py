"""Evidence helpers on top of :class:`TemplateMiner`: counts, new templates, rate changes, errors.

All helpers are pure: they take iterables of :class:`LogRecord` (or plain strings for
:func:`join_multiline`) and return pydantic values; none does I/O. Each helper that mines
accepts an optional ``miner`` so several calls can share one template vocabulary (ids are then
comparable across calls); without one, a fresh miner with the default configuration is used.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from day2ai.analysis.logmining.miner import TemplateMiner

_ERROR_WORDS = re.compile(
    r"\b(?:error|errors|exception|exceptions|fail|failed|failure|fatal|panic|traceback|refused|timed? ?out"
    r"|critical|severe|crash(?:ed)?|abort(?:ed)?|denied|unavailable)\b",
    re.IGNORECASE,
)
_ERROR_LEVELS = frozenset({"ERROR", "ERR", "FATAL", "CRITICAL", "CRIT", "SEVERE", "EMERG", "ALERT", "PANIC"})
_CONTINUATION = re.compile(r"^(?:\s|at\s|Caused by:|\.\.\.|Traceback \(|During handling|The above exception)")


class LogRecord(BaseModel):
    """One log record: when, which service, at what level, and the message text."""

    model_config = ConfigDict(frozen=True)

    timestamp: datetime
    service: str = ""
    level: str = ""
    message: str


class TemplateCount(BaseModel):
    """How many records of one template one service logged in one time bucket."""

    model_config = ConfigDict(frozen=True)

    bucket_start: datetime
    service: str
    template_id: str
    template: str
    count: int


class _ObservedTemplate(BaseModel):
    """A template as seen in a set of records: how often, where, when first, one example."""

    model_config = ConfigDict(frozen=True)

    template_id: str
    template: str
    count: int
    services: list[str]
    first_seen: datetime
    last_seen: datetime
    example: str


class NewTemplate(_ObservedTemplate):
    """A template seen in the incident period but never in the baseline."""


class RateChange(BaseModel):
    """A template whose rate (records per minute) differs between baseline and incident."""

    model_config = ConfigDict(frozen=True)

    template_id: str
    template: str
    baseline_per_min: float
    incident_per_min: float
    ratio: float = Field(description="(incident + 1/min) / (baseline + 1/min): smoothed, never infinite.")
    score: float = Field(description="|log2(ratio)| weighted by volume; higher = changed more.")


class ErrorTemplate(_ObservedTemplate):
    """An error or exception template with one example record."""


def join_multiline(lines: Iterable[str]) -> Iterator[str]:
    """Join continuation lines (stack traces) onto the record they belong to.

    A line continues the previous record when it starts with whitespace, ``at ``,
    ``Caused by:``, ``...``, or is part of a Python traceback. Records are yielded joined
    with ``"\\n"``; a continuation line with no record before it starts a record of its own.
    """
    current: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if current and line and _CONTINUATION.match(line):
            current.append(line)
            continue
        if current:
            yield "\n".join(current)
        current = [line]
    if current:
        yield "\n".join(current)


def first_line(message: str) -> str:
    """The headline of a (possibly multi-line) record: what the miner sees."""
    return message.split("\n", 1)[0]


def _bucket(ts: datetime, seconds: int) -> datetime:
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    epoch = math.floor(aware.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(epoch, tz=aware.tzinfo)


def _final(miner: TemplateMiner, template_id: str) -> tuple[str, str]:
    resolved = miner.resolve(template_id)
    return resolved, miner.template(resolved) or ""


def template_counts(
    records: Iterable[LogRecord], bucket_seconds: int = 60, miner: TemplateMiner | None = None
) -> list[TemplateCount]:
    """Counts per (time bucket, service, template), sorted by bucket, service, then count (desc)."""
    if bucket_seconds <= 0:
        raise ValueError("bucket_seconds must be positive")
    miner = miner or TemplateMiner()
    counts: Counter[tuple[datetime, str, str]] = Counter()
    for record in records:
        tid = miner.add_id(first_line(record.message))
        counts[(_bucket(record.timestamp, bucket_seconds), record.service, tid)] += 1
    merged: Counter[tuple[datetime, str, str]] = Counter()
    for (bucket, service, tid), n in counts.items():
        merged[(bucket, service, miner.resolve(tid))] += n
    result = [
        TemplateCount(bucket_start=b, service=s, template_id=t, template=miner.template(t) or "", count=n)
        for (b, s, t), n in merged.items()
    ]
    result.sort(key=lambda c: (c.bucket_start, c.service, -c.count, c.template_id))
    return result


class _Seen:
    __slots__ = ("count", "example", "first", "last", "services")

    def __init__(self, record: LogRecord) -> None:
        self.count = 0
        self.first = record.timestamp
        self.last = record.timestamp
        self.example = record.message
        self.services: set[str] = set()

    def add(self, record: LogRecord) -> None:
        self.count += 1
        self.first = min(self.first, record.timestamp)
        self.last = max(self.last, record.timestamp)
        if record.service:
            self.services.add(record.service)


def _observe(records: Iterable[LogRecord], miner: TemplateMiner) -> dict[str, _Seen]:
    seen: dict[str, _Seen] = {}
    for record in records:
        tid = miner.add_id(first_line(record.message))
        entry = seen.get(tid)
        if entry is None:
            entry = seen[tid] = _Seen(record)
        entry.add(record)
    merged: dict[str, _Seen] = {}
    for tid, entry in seen.items():
        target = miner.resolve(tid)
        if target not in merged:
            merged[target] = entry
            continue
        into = merged[target]
        into.count += entry.count
        into.services |= entry.services
        if entry.first < into.first:
            into.first, into.example = entry.first, entry.example
        into.last = max(into.last, entry.last)
    return merged


_T = TypeVar("_T", bound=_ObservedTemplate)


def _observed(cls: type[_T], miner: TemplateMiner, tid: str, entry: _Seen) -> _T:
    return cls(
        template_id=tid,
        template=_final(miner, tid)[1],
        count=entry.count,
        services=sorted(entry.services),
        first_seen=entry.first,
        last_seen=entry.last,
        example=entry.example,
    )


def new_templates(
    baseline: Iterable[LogRecord], incident: Iterable[LogRecord], miner: TemplateMiner | None = None
) -> list[NewTemplate]:
    """Templates of the incident period never seen in the baseline, most frequent first.

    The baseline is mined first, so incident records that fit a baseline template (even after
    it generalised) are not new.
    """
    miner = miner or TemplateMiner()
    before = {miner.resolve(t) for t in _observe(baseline, miner)}
    during = _observe(incident, miner)
    before = {miner.resolve(t) for t in before}
    result = [_observed(NewTemplate, miner, tid, entry) for tid, entry in during.items() if tid not in before]
    result.sort(key=lambda t: (-t.count, t.first_seen, t.template_id))
    return result


def _minutes(records: list[LogRecord], given: float | None) -> float:
    if given is not None:
        if given <= 0:
            raise ValueError("period minutes must be positive")
        return given
    if not records:
        return 1.0
    span = (max(r.timestamp for r in records) - min(r.timestamp for r in records)).total_seconds() / 60
    return max(span, 1.0)


def rate_changes(
    baseline: Iterable[LogRecord],
    incident: Iterable[LogRecord],
    *,
    baseline_minutes: float | None = None,
    incident_minutes: float | None = None,
    limit: int = 20,
    miner: TemplateMiner | None = None,
) -> list[RateChange]:
    """Templates whose rate changed most between the two periods (appeared, vanished, grew, shrank).

    Period lengths default to each period's time span (at least one minute). Rates are smoothed
    by one record per period so a template seen in only one period gets a finite ratio.
    """
    base_list, inc_list = list(baseline), list(incident)
    miner = miner or TemplateMiner()
    before = _observe(base_list, miner)
    during = _observe(inc_list, miner)
    base_min = _minutes(base_list, baseline_minutes)
    inc_min = _minutes(inc_list, incident_minutes)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tid, entry in before.items():
        totals[miner.resolve(tid)][0] += entry.count
    for tid, entry in during.items():
        totals[miner.resolve(tid)][1] += entry.count
    result = []
    for tid, (b, i) in totals.items():
        b_rate, i_rate = b / base_min, i / inc_min
        ratio = (i + 1) / inc_min / ((b + 1) / base_min)
        score = abs(math.log2(ratio)) * math.log2(2 + b + i)
        result.append(
            RateChange(
                template_id=tid,
                template=_final(miner, tid)[1],
                baseline_per_min=b_rate,
                incident_per_min=i_rate,
                ratio=ratio,
                score=score,
            )
        )
    result.sort(key=lambda r: (-r.score, r.template_id))
    return result[:limit]


def is_error(record: LogRecord) -> bool:
    """True for records at an error level or whose headline names an error or exception."""
    if record.level.upper() in _ERROR_LEVELS:
        return True
    return _ERROR_WORDS.search(first_line(record.message)) is not None


def error_templates(
    records: Iterable[LogRecord], limit: int = 50, miner: TemplateMiner | None = None
) -> list[ErrorTemplate]:
    """Error / exception templates, most frequent first, each with its first example record."""
    miner = miner or TemplateMiner()
    errors = _observe((r for r in records if is_error(r)), miner)
    result = [_observed(ErrorTemplate, miner, tid, entry) for tid, entry in errors.items()]
    result.sort(key=lambda t: (-t.count, t.first_seen, t.template_id))
    return result[:limit]
