"""Log evidence on top of the template miner: new templates, rate changes, errors, peers named.

:class:`LogAccumulator` is fed one record at a time (a stream of any length; memory grows with
the number of templates x time bins, not with lines). :meth:`LogAccumulator.analyze` compares,
per service and template, the incident period with the baseline once the periods are known.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from day2ai.analysis.logmining import TemplateMiner
from day2ai.analysis.periods import Periods, baseline_label, needs_pre
from day2ai.analysis.signatures import ComponentMatcher, fault_hints, is_errorish
from day2ai.models import Fault
from day2ai.sources.base import LEVEL_RANK

# The logging call site a line's header names: a class with its line number (logback/log4j
# ``%logger#%line``, ``%C{1}:%L``, ``Class@line``) or a source file with its line number (glog,
# Go's Lshortfile, Python's ``%(filename)s:%(lineno)d``). A call site is one log statement, so two
# statements that write the same text stay apart (an exception between them shows as the second
# one missing); the template miner masks the number like any other. Only the header is searched.
_CALL_SITE = re.compile(
    r"(?<![\w$.])(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*[#@:]\d{1,6}(?![\w.:])"
    r"|(?<![\w./-])[\w./-]*\.(?:java|kt|scala|groovy|py|go|rb|js|ts|c|cc|cpp|cxx|h|hpp|rs|cs|php|swift|ex|erl)"
    r":\d{1,6}(?![\w.:])"
)
HEADER_CHARS = 120


def call_site(message: str) -> str:
    """The logging call site named in ``message``'s header (``TravelServiceImpl#366``), or ''."""
    m = _CALL_SITE.search(message, 0, HEADER_CHARS)
    return m.group(0) if m else ""


# the span that wrote a line, as tracing-aware log patterns print it in the header (logback/log4j
# MDC ``SpanID: 1a2b...``, ``span_id=...``, ``spanId: ...``); W3C and B3 span ids are 16 hex digits
_SPAN_ID = re.compile(r"(?i)\bspan[_-]?id\b[\"']?\s*[:=]\s*[\"']?([0-9a-f]{16})\b")
SPAN_HEADER_CHARS = 240
SPAN_ATTRIBUTES = ("span_id", "spanId", "span.id", "SpanId", "spanID")


def span_ref(message: str, attributes: Mapping[str, Any] | None = None) -> str:
    """The id of the span that wrote a log line: from the record's attributes (OpenTelemetry log
    records carry it) or the line's header; '' when neither names one."""
    for key in SPAN_ATTRIBUTES:
        value = (attributes or {}).get(key)
        if value:
            return str(value)
    m = _SPAN_ID.search(message, 0, SPAN_HEADER_CHARS)
    return m.group(1) if m else ""


ERROR_RANK = LEVEL_RANK["ERROR"]
WARN_RANK = LEVEL_RANK["WARN"]
MAX_EXAMPLE_CHARS = 300


@dataclass
class _TemplateStats:
    bins: dict[int, int] = field(default_factory=dict)
    example: str = ""
    late_example: str = ""
    level: int = -1


class TemplateChange(BaseModel):
    """One template of one service: its baseline and incident rates and what it hints at."""

    model_config = ConfigDict(frozen=True)

    service: str
    template_id: str
    template: str
    example: str
    level: str | None
    baseline_count: int
    incident_count: int
    baseline_rate: float  # per minute
    incident_rate: float  # per minute
    is_new: bool
    is_error: bool
    score: float  # Poisson-style surprise of the incident count (signed: < 0 for drops)
    first_seen: float | None  # first occurrence inside the incident period
    hints: list[Fault]
    mentions: list[str]  # known components named by the template
    hosts: list[str]  # unknown hosts named by the template

    def describe(self) -> str:
        what = "NEW" if self.is_new else f"{self.baseline_rate:.2g}/min -> {self.incident_rate:.2g}/min"
        return f"{self.service} [{self.level or '-'}] {what} x{self.incident_count}: {self.example}"


class LogServiceProfile(BaseModel):
    service: str
    score: float  # strongest error-template surprise
    error_ratio_baseline: float
    error_ratio_incident: float
    onset: float | None
    templates: list[TemplateChange]  # the notable ones, strongest first
    hints: dict[Fault, float]  # fault word -> strongest supporting template score
    mentions: dict[str, float]  # component -> strongest error template naming it


class LogAnalysis(BaseModel):
    profiles: dict[str, LogServiceProfile]
    lines: int
    templates: int
    baseline: str = "before the onset"  # which fault-free period was compared (periods.baseline_label)
    baseline_minutes: float = 0.0  # minutes of baseline the logs cover

    def newness(self, t: TemplateChange) -> float:
        """Confidence that a template unseen in the baseline is really new: the probability that the
        baseline would have shown it at least once at its incident rate (Poisson), 1 - exp(-r * B)."""
        if not t.is_new or t.incident_rate <= 0:
            return 0.0
        return float(1.0 - math.exp(-t.incident_rate * self.baseline_minutes))

    def error_mentions(self) -> Iterator[tuple[str, str, TemplateChange]]:
        """(service, component it names, template) for every notable error template naming a peer."""
        for prof in self.profiles.values():
            for t in prof.templates:
                if t.is_error and t.score > 2.0:
                    for m in [*t.mentions, *t.hosts]:
                        yield prof.service, m, t


class LogAccumulator:
    """Streams log records into per-(service, template) time-binned counts."""

    def __init__(self, start: float, bin_seconds: float = 10.0, miner: TemplateMiner | None = None):
        self.start = start
        self.bin_seconds = bin_seconds
        self.miner = miner or TemplateMiner()
        self.lines = 0
        self._stats: dict[tuple[str, str], _TemplateStats] = {}
        self._errors: dict[str, dict[int, int]] = {}
        self._add_id = self.miner.add_id
        # (trace id, service, template id, call site or '', time, span id or '')
        self.trace_links: list[tuple[str, str, str, str, float, str]] = []

    def add(
        self,
        timestamp: float,
        service: str,
        message: str,
        level: str | None = None,
        trace_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self.lines += 1
        tid = self._add_id(message)
        if trace_id:
            link = (trace_id, service, tid, call_site(message), timestamp, span_ref(message, attributes))
            self.trace_links.append(link)
        b = int((timestamp - self.start) // self.bin_seconds)
        st = self._stats.get((service, tid))
        if st is None:
            st = self._stats[(service, tid)] = _TemplateStats(example=message[:MAX_EXAMPLE_CHARS])
        bins = st.bins
        bins[b] = bins.get(b, 0) + 1
        if level is not None:
            rank = LEVEL_RANK.get(level, -1)
            if rank > st.level:
                st.level = rank
            if rank >= ERROR_RANK:
                err = self._errors.setdefault(service, {})
                err[b] = err.get(b, 0) + 1
                st.late_example = message[:MAX_EXAMPLE_CHARS]

    @property
    def services(self) -> list[str]:
        return sorted({svc for svc, _ in self._stats})

    def is_error(self, service: str, template_id: str) -> bool:
        """Whether ``service`` wrote lines of this template at ERROR level or above."""
        st = self._stats.get((service, template_id))
        return st is not None and st.level >= ERROR_RANK

    def _service_totals(self) -> dict[str, dict[int, int]]:
        totals: dict[str, dict[int, int]] = {}
        for (svc, _), st in self._stats.items():
            tot = totals.setdefault(svc, {})
            for b, c in st.bins.items():
                tot[b] = tot.get(b, 0) + c
        return totals

    def _bin_range(self, t0: float, t1: float) -> tuple[int, int]:
        return int((t0 - self.start) // self.bin_seconds), int((t1 - self.start) // self.bin_seconds)

    def error_onsets(self, periods: Periods) -> dict[str, float]:
        """Per service: first incident-period bin where error lines rise clearly and persistently."""
        out: dict[str, float] = {}
        b0, b1 = self._bin_range(periods.baseline_start, periods.baseline_end)
        i0, i1 = self._bin_range(periods.incident_start, periods.incident_end)
        nb = max(1, b1 - b0)
        for svc, bins in self._errors.items():
            base = sum(c for b, c in bins.items() if b0 <= b < b1) / nb
            thr = base + 3.0 * math.sqrt(base + 0.25) + 1.0
            hits = sorted(b for b, c in bins.items() if i0 <= b <= i1 and c >= thr)
            hit_set = set(hits)
            for b in hits:
                if sum((b + k) in hit_set for k in range(3)) >= 2 or b == i1:
                    out[svc] = self.start + b * self.bin_seconds
                    break
        return out

    def analyze(self, periods: Periods, components: Iterable[str] = (), top: int = 8) -> LogAnalysis:
        matcher = ComponentMatcher(components)
        b0, b1 = self._bin_range(periods.baseline_start, periods.baseline_end)
        i0, i1 = self._bin_range(periods.incident_start, periods.incident_end)
        base_bins, base_min, inc_min, used = self._baseline_bins(periods)
        by_service: dict[str, list[TemplateChange]] = {}
        for (svc, tid), st in self._stats.items():
            bc = sum(c for b, c in st.bins.items() if b in base_bins)
            ic_bins = [b for b in st.bins if i0 <= b <= i1]
            ic = sum(st.bins[b] for b in ic_bins)
            if bc == 0 and ic == 0:
                continue
            expected = (bc + 0.5) / base_min * inc_min
            score = (ic - expected) / math.sqrt(expected + 1.0)
            template = self.miner.template(tid) or st.example
            example = st.late_example or st.example
            is_error = st.level >= ERROR_RANK or (st.level < WARN_RANK and is_errorish(example))
            is_error = is_error or (st.level == WARN_RANK and is_errorish(example))
            first_seen = (self.start + min(ic_bins) * self.bin_seconds) if ic_bins else None
            change = TemplateChange(
                service=svc,
                template_id=tid,
                template=template,
                example=example,
                level=_level_name(st.level),
                baseline_count=bc,
                incident_count=ic,
                baseline_rate=bc / base_min,
                incident_rate=ic / inc_min,
                is_new=bc == 0 and ic > 0,
                is_error=is_error,
                score=round(score, 3),
                first_seen=first_seen,
                hints=fault_hints(example) if is_error or score > 3 else [],
                mentions=matcher.known(example, exclude=svc) if is_error or score > 3 else [],
                hosts=matcher.hosts(example) if is_error else [],
            )
            by_service.setdefault(svc, []).append(change)
        totals = self._service_totals()
        profiles = {
            svc: self._profile(svc, changes, totals.get(svc, {}), (b0, b1), (i0, i1), top)
            for svc, changes in by_service.items()
        }
        onsets = self.error_onsets(periods)
        for svc, onset in onsets.items():
            if svc in profiles:
                profiles[svc] = profiles[svc].model_copy(update={"onset": onset})
        return LogAnalysis(
            profiles=profiles,
            lines=self.lines,
            templates=len(self.miner.templates()),
            baseline=used,
            baseline_minutes=base_min,
        )

    def _baseline_bins(self, periods: Periods) -> tuple[set[int], float, float, str]:
        """Baseline bins (the given baseline, widened by the time before the onset when it holds fewer
        logged bins than the incident period), and the minutes of each period that the logs cover:
        rates are per covered minute, so a source that only logged around the fault compares fairly."""
        b0, b1 = self._bin_range(periods.baseline_start, periods.baseline_end)
        i0, i1 = self._bin_range(periods.incident_start, periods.incident_end)
        covered = {b for st in self._stats.values() for b in st.bins}
        base = set(range(b0, b1))
        inc = covered.intersection(range(i0, i1 + 1))
        widened = needs_pre(periods, len(base & covered), len(inc))
        if widened:
            p0, p1 = self._bin_range(float(periods.pre_start or 0.0), float(periods.pre_end or 0.0))
            base.update(range(p0, p1))
        per_min = self.bin_seconds / 60.0
        if covered:
            base_min, inc_min = max(len(base & covered), 1) * per_min, max(len(inc), 1) * per_min
        else:
            base_min = max(periods.baseline_seconds, self.bin_seconds) / 60.0
            inc_min = max(periods.incident_seconds, self.bin_seconds) / 60.0
        return base, base_min, inc_min, baseline_label(periods, widened)

    def _profile(
        self,
        svc: str,
        changes: list[TemplateChange],
        totals: dict[int, int],
        base: tuple[int, int],
        inc: tuple[int, int],
        top: int,
    ) -> LogServiceProfile:
        notable = [
            c
            for c in changes
            if (c.is_error and c.score > 2.0) or abs(c.score) > 5.0 or (c.is_new and c.incident_count >= 3)
        ]
        notable.sort(key=lambda c: -(abs(c.score) + (5.0 if c.is_error and c.score > 0 else 0.0)))
        err_scores = [c.score for c in changes if c.is_error]
        hints: dict[Fault, float] = {}
        mentions: dict[str, float] = {}
        for c in changes:
            if c.score <= 2.0:
                continue
            weight = c.score if c.is_error else 0.3 * c.score
            for i, h in enumerate(c.hints):  # the most specific family counts fully
                w = weight if i == 0 else 0.3 * weight
                hints[h] = max(hints.get(h, 0.0), w)
            for m in [*c.mentions, *c.hosts]:
                if c.is_error:
                    mentions[m] = max(mentions.get(m, 0.0), c.score)
        errors = self._errors.get(svc, {})
        return LogServiceProfile(
            service=svc,
            score=max([0.0, *err_scores]),
            error_ratio_baseline=_ratio(errors, totals, *base),
            error_ratio_incident=_ratio(errors, totals, *inc),
            onset=None,
            templates=notable[:top],
            hints=hints,
            mentions=mentions,
        )


def _ratio(errors: dict[int, int], totals: dict[int, int], lo: int, hi: int) -> float:
    tot = sum(c for b, c in totals.items() if lo <= b <= hi)
    err = sum(c for b, c in errors.items() if lo <= b <= hi)
    return err / tot if tot else 0.0


def _level_name(rank: int) -> str | None:
    for name, r in LEVEL_RANK.items():
        if r == rank:
            return name
    return None


def log_strength(score: float) -> float:
    return float(1.0 - np.exp(-max(score, 0.0) / 15.0))
