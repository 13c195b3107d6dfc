"""Findings as Evidence: each finding key (``metric:SERVICE:KIND``, ``log:SERVICE:TEMPLATE``,
``trace:SERVICE``, ``edge:CALLER->CALLEE``, ``pattern:SERVICE``, ``change:SERVICE:TIME``) becomes one
Evidence item, registered on first use, built from the analyses :mod:`day2ai.tools.signals` caches.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from day2ai.analysis.logs import LogAccumulator, log_strength
from day2ai.analysis.metrics import MetricKind, strength
from day2ai.analysis.periods import Periods
from day2ai.models import Evidence, EvidenceSource, TimeRange
from day2ai.tools.base import Investigation
from day2ai.tools.selectors import selector_for
from day2ai.tools.signals import (
    log_analysis,
    metric_profiles,
    pattern_analysis,
    periods,
    scored_changes,
    trace_analysis,
)

# a template id in a pattern, with the call site it was written from (``T7@c.s.PriceService#46``)
_TEMPLATE_ID = re.compile(r"\b(T\d+)(?:@([\w$./-]+[#@:]\d+))?\b")
_LINE_NUMBER = re.compile(r"\d+$")


# ------------------------------------------------------------------ evidence


def _tr(start: float | None, end: float | None) -> TimeRange | None:
    if start is None or end is None or end < start:
        return None
    return TimeRange.from_epoch(start, end)


async def evidence_for(inv: Investigation, key: str) -> Evidence | None:
    """The Evidence of a finding key (registered on first use; None if the key is unknown)."""
    ids: dict[str, str] = inv.cache.setdefault("evidence_keys", {})
    if key in ids:
        return next((e for e in inv.evidence if e.id == ids[key]), None)
    made = await _make_evidence(inv, key)
    if made is None:
        return None
    source, query, summary, service, strength_, tr, data = made
    ev = inv.add_evidence(
        source,
        query,
        summary,
        service=service,
        strength=strength_,
        time_range=tr,
        data={"key": key, **data},
        selector=selector_for(inv, key, source, service, tr, data),
    )
    ids[key] = ev.id
    return ev


_Made = tuple[EvidenceSource, str, str, str | None, float, TimeRange | None, dict[str, Any]]


async def _make_evidence(inv: Investigation, key: str) -> _Made | None:
    kind, _, rest = key.partition(":")
    p = await periods(inv)
    maker = _MAKERS.get(kind)
    return await maker(inv, rest, p) if maker is not None else None


async def _metric_evidence(inv: Investigation, rest: str, p: Periods) -> _Made | None:
    svc, _, mk = rest.rpartition(":")
    prof = (await metric_profiles(inv)).get(svc)
    if prof is None or mk not in MetricKind._value2member_map_:
        return None
    a = prof.by_kind.get(MetricKind(mk))
    if a is None:
        return None
    return (
        EvidenceSource.METRICS,
        f"metric {a.name}{{service={svc}}} incident vs baseline",
        a.describe(),
        svc,
        strength(a.score),
        _tr(a.onset or p.incident_start, p.incident_end),
        {"metric": a.name, "kind": a.kind.value, "z": a.score, "onset": a.onset},
    )


async def _log_evidence(inv: Investigation, rest: str, p: Periods) -> _Made | None:
    svc, _, tid = rest.rpartition(":")
    la = await log_analysis(inv)
    prof = la.profiles.get(svc) if la is not None else None
    t = next((t for t in prof.templates if t.template_id == tid), None) if prof is not None else None
    if t is None:
        return None
    return (
        EvidenceSource.LOGS,
        f"log template {tid} of {svc}",
        t.describe(),
        svc,
        log_strength(t.score),
        _tr(t.first_seen, p.incident_end),
        {
            "template": t.template[:200],
            "new": t.is_new,
            "hints": [h.value for h in t.hints],
            "mentions": t.mentions + t.hosts,
        },
    )


async def _trace_evidence(inv: Investigation, rest: str, p: Periods) -> _Made | None:
    ta = await trace_analysis(inv)
    tp = ta.profiles.get(rest) if ta is not None else None
    if tp is None:
        return None
    st = max(strength(tp.self_time_z), strength(tp.latency_z), tp.origin_share)
    return (
        EvidenceSource.TRACES,
        f"spans of {rest} incident vs baseline",
        tp.describe(),
        rest,
        st,
        _tr(p.incident_start, p.incident_end),
        {"latency_z": tp.latency_z, "self_time_z": tp.self_time_z, "origin_share": tp.origin_share},
    )


async def _edge_evidence(inv: Investigation, rest: str, p: Periods) -> _Made | None:
    a, _, b = rest.partition("->")
    ta = await trace_analysis(inv)
    e = next((e for e in ta.edges if e.caller == a and e.callee == b), None) if ta is not None else None
    if e is None:
        return None
    st = max(strength(e.latency_z), min(1.0, 2 * max(0.0, e.incident_error_rate - e.baseline_error_rate)))
    return (
        EvidenceSource.TRACES,
        f"calls {a} -> {b} incident vs baseline",
        e.describe(),
        b,
        st,
        _tr(p.incident_start, p.incident_end),
        {"caller": a, "callee": b},
    )


async def _pattern_evidence(inv: Investigation, rest: str, p: Periods) -> _Made | None:
    pa = await pattern_analysis(inv)
    shift = pa.shifts.get(rest) if pa is not None else None
    if pa is None or shift is None:
        return None
    start = pa.onset
    acc = inv.cache.get("log_acc")
    if isinstance(acc, LogAccumulator):  # template ids -> their text, for a reader
        miner = acc.miner

        def one(m: re.Match[str]) -> str:
            tid, site = m.group(1), m.group(2)
            text = miner.template(tid) or tid
            if site:  # the template masked the line number: show the statement's own
                masked = _LINE_NUMBER.sub("<*>", site)
                text = text.replace(masked, site, 1) if masked in text else f"{text} at {site}"
            return f"'{text[:100]}'"

        def readable(text: str) -> str:
            return _TEMPLATE_ID.sub(one, text)

        shift = shift.model_copy(
            update={
                "example": readable(shift.example),
                "usual": readable(shift.usual),
                "added": [readable(x) for x in shift.added],
                "missing": [readable(x) for x in shift.missing],
            }
        )
    return (
        EvidenceSource.TRACES,
        f"per-request patterns of {rest} (calls and log templates) incident vs baseline",
        shift.describe(),
        rest,
        strength(shift.z),
        _tr(start, p.incident_end),
        {"operation": shift.operation, "z": shift.z, "novel": shift.novel, "vanished": shift.vanished},
    )


async def _change_evidence(inv: Investigation, rest: str, p: Periods) -> _Made | None:
    svc, _, ts = rest.rpartition(":")
    ch = next((c for c in await scored_changes(inv) if c.service == svc and f"{c.timestamp:.0f}" == ts), None)
    if ch is None:
        return None
    return (
        EvidenceSource.CHANGES,
        f"changes of {svc} near the onset",
        ch.describe(),
        svc,
        ch.proximity,
        _tr(ch.timestamp, ch.timestamp),
        {"kind": ch.kind.value, "version": ch.version},
    )


_MAKERS: dict[str, Callable[[Investigation, str, Periods], Awaitable[_Made | None]]] = {
    "metric": _metric_evidence,
    "log": _log_evidence,
    "trace": _trace_evidence,
    "edge": _edge_evidence,
    "pattern": _pattern_evidence,
    "change": _change_evidence,
}


async def cite(inv: Investigation, key: str) -> str:
    """``[eN] summary`` for a finding key, registering its evidence ('' if unknown)."""
    ev = await evidence_for(inv, key)
    return f"[{ev.id}] {ev.summary}" if ev is not None else ""
