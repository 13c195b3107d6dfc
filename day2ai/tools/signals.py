"""Reading the sources once per investigation and caching analysis results in ``inv.cache``.

Every investigation tool goes through these loaders, so each source is streamed at most once
however many tools (offline or LLM-driven) ask. A missing or failing source becomes a report gap,
never an exception. Findings become Evidence in :mod:`day2ai.tools.evidence`, once per finding key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import numpy as np

from day2ai.analysis.changes import ScoredChange, score_changes
from day2ai.analysis.graph import CallGraph
from day2ai.analysis.logs import LogAccumulator, LogAnalysis
from day2ai.analysis.metrics import (
    SeriesAnomaly,
    ServiceMetricProfile,
    score_series,
    series_onsets,
    service_profiles,
)
from day2ai.analysis.patterns import (
    PatternAnalysis,
    analyze_patterns,
    pattern_onset,
    precedes_recording,
)
from day2ai.analysis.periods import Periods, combine_onsets, periods_for_onset, preliminary_periods
from day2ai.analysis.traces import TraceAccumulator, TraceAnalysis
from day2ai.analysis.units import PatternTable, build_units, statement_key
from day2ai.errors import Day2AIError
from day2ai.models import Topology
from day2ai.sources.base import DENSE_LOOKBACK_S, ChangeQuery, LogQuery, MetricQuery, SpanQuery
from day2ai.tools.base import Investigation

T = TypeVar("T")
RawSeries = tuple[str, str, dict[str, str], np.ndarray, np.ndarray]


async def cached(inv: Investigation, key: str, make: Callable[[], Awaitable[T]]) -> T:
    """``inv.cache[key]``, computed once (concurrent callers share one computation)."""
    lock = inv.cache.setdefault("_locks", {}).setdefault(key, asyncio.Lock())
    async with lock:
        if key not in inv.cache:
            inv.cache[key] = await make()
        value: T = inv.cache[key]
        return value


def _source_gap(inv: Investigation, kind: str, exc: Exception | None = None) -> None:
    if exc is None:
        inv.add_gap(kind, f"no {kind} source: {kind} evidence could not be checked")
    else:
        inv.add_gap(kind, f"{kind} source failed: {exc}")


# ------------------------------------------------------------------ raw loading (one pass each)


async def raw_metrics(inv: Investigation) -> list[RawSeries]:
    async def load() -> list[RawSeries]:
        src = inv.sources.metrics
        if src is None:
            _source_gap(inv, "metrics")
            return []
        w = inv.incident.window
        out: list[RawSeries] = []
        try:
            async for s in src.series(MetricQuery(start=w.start_s - 3600 * 6, end=w.end_s)):
                out.append(
                    (
                        s.service,
                        s.name,
                        dict(s.labels),
                        np.asarray(s.timestamps, dtype=float),
                        np.asarray(s.values, dtype=float),
                    )
                )
        except Day2AIError as exc:
            _source_gap(inv, "metrics", exc)
        if src is not None and not out:
            inv.add_gap("metrics", "the metrics source returned no series for the incident window")
        return out

    return await cached(inv, "raw_metrics", load)


async def log_accumulator(inv: Investigation) -> LogAccumulator | None:
    async def load() -> LogAccumulator | None:
        src = inv.sources.logs
        if src is None:
            _source_gap(inv, "logs")
            return None
        w = inv.incident.window
        acc = LogAccumulator(start=_dense_start(inv))
        add = acc.add
        try:
            async for rec in src.logs(LogQuery(start=_dense_start(inv), end=w.end_s)):
                add(rec.timestamp, rec.service, rec.message, rec.level, rec.trace_id, rec.attributes)
        except Day2AIError as exc:
            _source_gap(inv, "logs", exc)
        if acc.lines == 0:
            inv.add_gap("logs", "the logs source returned no lines for the incident window")
        return acc

    return await cached(inv, "log_acc", load)


async def trace_accumulator(inv: Investigation) -> TraceAccumulator | None:
    async def load() -> TraceAccumulator | None:
        src = inv.sources.traces
        if src is None:
            _source_gap(inv, "traces")
            return None
        w = inv.incident.window
        acc = TraceAccumulator()
        add = acc.add
        try:
            async for sp in src.spans(SpanQuery(start=_dense_start(inv), end=w.end_s)):
                add(
                    sp.trace_id,
                    sp.span_id,
                    sp.parent_span_id,
                    sp.service,
                    sp.name,
                    sp.start,
                    sp.duration_ms,
                    sp.status,
                    sp.attributes,
                )
        except Day2AIError as exc:
            _source_gap(inv, "traces", exc)
        if len(acc) == 0:
            inv.add_gap("traces", "the traces source returned no spans for the incident window")
        elif acc.statuses == 0:
            inv.add_gap("traces", "spans carry no status: errors inferred from attributes only")
        return acc

    return await cached(inv, "trace_acc", load)


async def topology(inv: Investigation) -> Topology | None:
    async def load() -> Topology | None:
        src = inv.sources.topology
        if src is None:
            inv.add_gap("topology", "no topology: the call graph is derived from spans and log messages")
            return None
        try:
            return await src.topology()
        except Day2AIError as exc:
            _source_gap(inv, "topology", exc)
            return None

    return await cached(inv, "topology", load)


async def scored_changes(inv: Investigation) -> list[ScoredChange]:
    async def load() -> list[ScoredChange]:
        src = inv.sources.changes
        if src is None:
            _source_gap(inv, "changes")
            return []
        p = await periods(inv)
        w = inv.incident.window
        try:
            items = [c async for c in src.changes(ChangeQuery(start=w.start_s - 6 * 3600, end=w.end_s))]
        except Day2AIError as exc:
            _source_gap(inv, "changes", exc)
            return []
        return score_changes(items, p.onset)

    return await cached(inv, "changes", load)


def _baseline_start(inv: Investigation) -> float:
    b = inv.incident.baseline
    return b.start_s if b is not None else inv.incident.window.start_s


def _earliest(inv: Investigation) -> float:
    """The start of the window or of the explicit baseline, whichever is earlier."""
    return min(inv.incident.window.start_s, _baseline_start(inv))


def _dense_start(inv: Investigation) -> float:
    """Where log and span queries start."""
    return _earliest(inv) - DENSE_LOOKBACK_S


# ------------------------------------------------------------------ periods and analyses


def _score_all(raw: list[RawSeries], p: Periods) -> list[SeriesAnomaly]:
    out = []
    for svc, name, labels, ts, vs in raw:
        a = score_series(svc, name, labels, ts, vs, p)
        if a is not None:
            out.append(a)
    return out


async def _source_onsets(inv: Investigation, prelim: Periods) -> AsyncIterator[list[float]]:
    """The onsets of each source's anomalies, in the order the sources date an incident: metrics,
    error logs, spans (each read only when the ones before it date nothing)."""
    raw = await raw_metrics(inv) if inv.sources.metrics is not None else []
    if raw:
        yield series_onsets(_score_all(raw, prelim))
    acc = await log_accumulator(inv) if inv.sources.logs is not None else None
    if acc is not None:
        yield list(acc.error_onsets(prelim).values())
    tacc = await trace_accumulator(inv) if inv.sources.traces is not None else None
    if tacc is not None and len(tacc):
        yield [p.onset for p in tacc.analyze(prelim).profiles.values() if p.onset is not None]


async def periods(inv: Investigation) -> Periods:
    """Baseline and incident periods, with the onset from the first source that dates one."""

    async def make() -> Periods:
        prelim = preliminary_periods(inv.incident)
        async for onsets in _source_onsets(inv, prelim):
            onset = combine_onsets(onsets, inv.incident)
            if onset is not None:
                return periods_for_onset(inv.incident, onset)
        why = "no anomaly that starts before the alert dates the onset; taken a guard interval before the alert"
        inv.add_gap("onset", why)
        return prelim

    return await cached(inv, "periods", make)


async def dense_periods(inv: Investigation) -> Periods:
    """The periods for logs. When the onset (from coarser sources) lies before the recording of
    requests that holds the detection, that recording has nothing before the onset to compare
    with; the change point of its per-request patterns (dated to 10 s) gives it one: the lines just
    before it are the baseline closest to the incident. Otherwise the onset stands. The time before
    the onset includes the lookback before the window."""

    async def make() -> Periods:
        p = await periods(inv)
        table = await pattern_table(inv)
        if table is not None and precedes_recording(table, p.onset, inv.incident.detected_at.timestamp()):
            refined = await pattern_change_point(inv)
            p = p if refined is None else periods_for_onset(inv.incident, refined)
        return _with_lookback(inv, p, DENSE_LOOKBACK_S)

    return await cached(inv, "dense_periods", make)


# How far before the window the span latency comparison reaches (logs and per-request patterns
# take all of DENSE_LOOKBACK_S). Chosen on nezha-tt-dev by leave-one-out over 0 and 300 (BENCHMARKS.md,
# fifth session): the earlier minutes lost 0.04-0.18 of AC@1 there at every pattern weight (latency
# moves with load; which paths requests take and which lines they log does not).
SPAN_LOOKBACK_S = 0.0


def _with_lookback(inv: Investigation, p: Periods, seconds: float) -> Periods:
    """``p`` with its fault-free time before the onset reaching ``seconds`` further back, when it
    starts at the window (logs and spans are read from ``DENSE_LOOKBACK_S`` before it)."""
    if seconds <= 0.0 or not p.has_pre or float(p.pre_start or 0.0) > inv.incident.window.start_s:
        return p
    return p.model_copy(update={"pre_start": _earliest(inv) - seconds})


async def pattern_change_point(inv: Investigation) -> float | None:
    """Where the per-request pattern mix changes, in the recording around the detection (computed
    once: the log periods and the pattern analysis both use it)."""

    async def make() -> float | None:
        table = await pattern_table(inv)
        return pattern_onset(table, inv.incident.detected_at.timestamp()) if table is not None else None

    return await cached(inv, "pattern_change_point", make)


async def metric_anomalies(inv: Investigation) -> list[SeriesAnomaly]:
    async def make() -> list[SeriesAnomaly]:
        raw = await raw_metrics(inv)
        if not raw:
            return []
        p = await periods(inv)
        found = _score_all(raw, p)
        if raw and not found:
            inv.add_gap("metrics", "metric series too short to compare the incident with a baseline")
        return found

    return await cached(inv, "metric_anomalies", make)


async def metric_profiles(inv: Investigation) -> dict[str, ServiceMetricProfile]:
    async def make() -> dict[str, ServiceMetricProfile]:
        return service_profiles(await metric_anomalies(inv))

    return await cached(inv, "metric_profiles", make)


async def known_components(inv: Investigation) -> list[str]:
    async def make() -> list[str]:
        names: dict[str, None] = {}
        topo = await topology(inv)
        if topo is not None:
            for c in topo.services:
                names.setdefault(c.name, None)
                for d in c.depends_on:
                    names.setdefault(d, None)
        for svc, *_ in await raw_metrics(inv):
            names.setdefault(svc, None)
        acc = await log_accumulator(inv)
        if acc is not None:
            for s in acc.services:
                names.setdefault(s, None)
        tacc = await trace_accumulator(inv)
        if tacc is not None:
            for s in tacc.services:
                names.setdefault(s, None)
        for ch in await scored_changes(inv):
            names.setdefault(ch.service, None)
        if inv.incident.symptom.service:
            names.setdefault(inv.incident.symptom.service, None)
        return list(names)

    return await cached(inv, "components", make)


async def log_analysis(inv: Investigation) -> LogAnalysis | None:
    async def make() -> LogAnalysis | None:
        acc = await log_accumulator(inv)
        if acc is None or acc.lines == 0:
            return None
        return acc.analyze(await dense_periods(inv), await known_components(inv), top=12)

    return await cached(inv, "log_analysis", make)


async def trace_analysis(inv: Investigation) -> TraceAnalysis | None:
    async def make() -> TraceAnalysis | None:
        acc = await trace_accumulator(inv)
        if acc is None or len(acc) == 0:
            return None
        comps = await known_components(inv)
        alias = _peer_aliases(acc.peers(), comps)
        ta = acc.analyze(_with_lookback(inv, await periods(inv), SPAN_LOOKBACK_S), alias)
        if not ta.has_baseline:
            inv.add_gap("traces", "no spans in the baseline period: trace changes cannot be compared")
        return ta

    return await cached(inv, "trace_analysis", make)


async def pattern_table(inv: Investigation) -> PatternTable | None:
    """Per-request units from spans and trace-linked log templates (None without spans)."""

    async def make() -> PatternTable | None:
        tacc = await trace_accumulator(inv) if inv.sources.traces is not None else None
        if tacc is None or len(tacc) == 0:
            return None
        lacc = await log_accumulator(inv) if inv.sources.logs is not None else None
        links: list[tuple[str, str, str, float, int]] = []
        errors: set[str] = set()
        if lacc is not None:
            miner = lacc.miner
            canon: dict[str, str] = {}
            by_text: dict[str, str] = {}

            def statement(tid: str) -> str:
                """One id per log statement (:func:`statement_key`: repeated list items folded, the text
                after the list dropped)."""
                t = miner.resolve(tid)
                if t not in canon:
                    canon[t] = by_text.setdefault(statement_key(miner.template(t) or t), t)
                return canon[t]

            for trace, svc, tid, site, at, span in lacc.trace_links:
                # a template written from two call sites is two log statements
                event = f"{statement(tid)}@{site}" if site else statement(tid)
                links.append((trace, svc, event, at, tacc.span_index(trace, span) if span else -1))
                if lacc.is_error(svc, tid):
                    errors.add(event)
        parents = tacc.parent_index()
        return build_units(
            tacc.services,
            tacc.service_idx,
            tacc.names,
            tacc.start,
            parents,
            tacc.traces,
            links,
            tacc.failed_callers(parents),
            errors,
            [t + d / 1000.0 for t, d in zip(tacc.start, tacc.duration, strict=True)],
        )

    return await cached(inv, "pattern_table", make)


async def pattern_analysis(inv: Investigation) -> PatternAnalysis | None:
    """Per-request pattern shifts between the baseline and the incident (None without spans)."""

    async def make() -> PatternAnalysis | None:
        table = await pattern_table(inv)
        if table is None:
            return None
        p = await periods(inv)
        base = (p.baseline_start, p.baseline_end) if p.explicit_baseline else None
        # per-request patterns date their own change to 10 s where they are recorded densely; the
        # other sources keep the onset of their (coarser) anomalies
        refined = await pattern_change_point(inv)
        return analyze_patterns(table, p.onset if refined is None else refined, base, p.incident_end)

    return await cached(inv, "pattern_analysis", make)


def _peer_aliases(peers: list[str], components: list[str]) -> dict[str, str]:
    """Map span peer attributes (host names, db names) onto known component names."""
    norm = {c.lower(): c for c in components}
    out: dict[str, str] = {}
    for peer in peers:
        low = peer.lower()
        for cand in (low, low.split(".", 1)[0], low.split(":", 1)[0]):
            if cand in norm:
                out[peer] = norm[cand]
                break
    return out


async def call_graph(inv: Investigation) -> CallGraph:
    async def make() -> CallGraph:
        g = CallGraph()
        topo = await topology(inv)
        if topo is not None:
            g.add_all(topo.edges(), "topology")
            g.kinds.update(topo.kinds())
        ta = await trace_analysis(inv)
        if ta is not None:
            for e in ta.edges:
                g.add(e.caller, e.callee, "traces")
        la = await log_analysis(inv)
        if la is not None:
            for prof in la.profiles.values():
                for t in prof.templates:
                    for m in [*t.mentions, *t.hosts]:
                        g.add(prof.service, m, "logs")
        g.complete_kinds(ta.peer_kinds if ta is not None else {})
        return g

    return await cached(inv, "graph", make)
