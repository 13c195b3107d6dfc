"""Two naive investigators that give the scores of day2ai something to be compared with.

- :class:`RandomInvestigator` ranks the services it can see in a random order, seeded by the
  incident id (``hashlib``, so the same case gets the same ranking in every process).
- :class:`LoudestSymptomInvestigator` ranks services by how much their error and latency
  metrics rose from the baseline to the incident (falling back to span durations and error
  statuses when a bundle has no such metrics): the service that shouts loudest comes first.
  It names ``code_error`` when errors dominate and ``network_delay`` otherwise.

Neither reads anything but the incident and its sources; both cite the evidence they used.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from day2ai.agent.base import EventListener
from day2ai.models import (
    Evidence,
    EvidenceSource,
    Fault,
    Hypothesis,
    Incident,
    Remediation,
    Report,
    TimeRange,
    Usage,
)
from day2ai.sources.base import MetricQuery, Sources, SpanQuery

MAX_HYPOTHESES = 5
LATENCY_FLOOR_S = 0.005  # relative increases are taken against at least this many seconds
ERROR_FLOOR = 0.01  # ... and against at least this error ratio
MIN_RISE = 0.05  # a service whose signals rose less than 5 % is not named at all


def case_seed(incident_id: str, seed: int = 0) -> int:
    """A stable 64-bit seed for one case (``hash()`` is salted per process; sha256 is not)."""
    digest = hashlib.sha256(f"{seed}:{incident_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


async def known_services(incident: Incident, sources: Sources) -> list[str]:
    """Every service named by the topology, the metrics or (failing those) the traces, sorted."""
    names: set[str] = set()
    if sources.topology is not None:
        topo = await sources.topology.topology()
        if topo is not None:
            names.update(c.name for c in topo.services)
    if sources.metrics is not None:
        async for s in sources.metrics.series(MetricQuery()):
            names.add(s.service)
    if not names and sources.traces is not None:
        async for span in sources.traces.spans(SpanQuery()):
            names.add(span.service)
    if incident.symptom.service:
        names.add(incident.symptom.service)
    return sorted(names)


def _periods(incident: Incident) -> tuple[TimeRange, TimeRange]:
    """(baseline, incident period): the declared baseline, else the first half before detection."""
    window = incident.window
    if incident.baseline is not None:
        base = incident.baseline
        return base, TimeRange.from_epoch(max(base.end_s, window.start_s), window.end_s)
    detected = min(max(incident.detected_at.timestamp(), window.start_s), window.end_s)
    split = window.start_s + (detected - window.start_s) / 2
    return TimeRange.from_epoch(window.start_s, split), TimeRange.from_epoch(split, window.end_s)


def _mean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if not math.isnan(v) and not math.isinf(v)]
    return sum(vals) / len(vals) if vals else None


def _increase(before: float | None, after: float | None, floor: float) -> float:
    if before is None or after is None:
        return 0.0
    return max(0.0, (after - before) / max(abs(before), floor))


@dataclass
class _Loudness:
    latency: float = 0.0
    errors: float = 0.0
    details: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.latency + self.errors


def _kind_of(metric_name: str) -> str | None:
    name = metric_name.lower()
    if "latency" in name or "duration" in name:
        return "latency"
    if "error" in name:
        return "errors"
    return None


async def _metric_loudness(sources: Sources, base: TimeRange, cur: TimeRange) -> dict[str, _Loudness]:
    out: dict[str, _Loudness] = defaultdict(_Loudness)
    if sources.metrics is None:
        return out
    async for s in sources.metrics.series(MetricQuery(start=base.start_s, end=cur.end_s)):
        kind = _kind_of(s.name)
        if kind is None:
            continue
        pairs = list(zip(s.timestamps, s.values, strict=False))
        before = _mean(v for t, v in pairs if base.start_s <= t < base.end_s)
        after = _mean(v for t, v in pairs if cur.start_s <= t <= cur.end_s)
        rise = _increase(before, after, LATENCY_FLOOR_S if kind == "latency" else ERROR_FLOOR)
        entry = out[s.service]
        if rise > getattr(entry, kind):
            setattr(entry, kind, rise)
            entry.details.append(f"{s.name} mean {before:.4g} -> {after:.4g}" if before is not None
                                 and after is not None else s.name)
    return out


async def _trace_loudness(sources: Sources, base: TimeRange, cur: TimeRange) -> dict[str, _Loudness]:
    out: dict[str, _Loudness] = defaultdict(_Loudness)
    if sources.traces is None:
        return out
    stats: dict[tuple[str, bool], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # n, ms, errors
    async for span in sources.traces.spans(SpanQuery(start=base.start_s, end=cur.end_s)):
        after = span.start >= cur.start_s
        if not after and span.start >= base.end_s:
            continue
        acc = stats[(span.service, after)]
        acc[0] += 1
        acc[1] += span.duration_ms
        acc[2] += span.status == "error"
    for service in sorted({s for s, _ in stats}):
        b, a = stats.get((service, False)), stats.get((service, True))
        if not b or not a:
            continue
        entry = out[service]
        entry.latency = _increase(b[1] / b[0] / 1000, a[1] / a[0] / 1000, LATENCY_FLOOR_S)
        entry.errors = _increase(b[2] / b[0], a[2] / a[0], ERROR_FLOOR)
        entry.details.append(f"mean span {b[1] / b[0]:.1f} -> {a[1] / a[0]:.1f} ms, "
                             f"errors {b[2] / b[0]:.3f} -> {a[2] / a[0]:.3f}")
    return out


def _report(incident: Incident, name: str, hypotheses: list[Hypothesis], evidence: list[Evidence],
            started: float) -> Report:
    return Report(incident=incident, investigator=name, hypotheses=hypotheses, evidence=evidence,
                  usage=Usage(seconds=time.perf_counter() - started),
                  notes=[f"{name} is a naive baseline for evaluation, not a diagnosis"])


def _remediation(service: str) -> list[Remediation]:
    return [Remediation(action=f"inspect {service} first", rationale="naive baseline ranking", risk="low")]


class RandomInvestigator:
    """Ranks the visible services in a random order seeded by the incident id."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.name = "random" if seed == 0 else f"random:{seed}"

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: list[EventListener] | None = None) -> Report:
        started = time.perf_counter()
        services = await known_services(incident, sources)
        rng = random.Random(case_seed(incident.id, self.seed))
        rng.shuffle(services)
        faults = [f for f in Fault if f is not Fault.OTHER]
        ev = Evidence(id="e1", source=EvidenceSource.METRICS, query="services in telemetry",
                      summary=f"{len(services)} services seen: {', '.join(sorted(services))[:300]}",
                      strength=0.0)
        top = services[:MAX_HYPOTHESES]
        hyps = [Hypothesis(service=s, fault=rng.choice(faults), confidence=round(0.5 / (i + 1), 3),
                           summary=f"random guess #{i + 1}: {s}", supporting=[ev.id],
                           remediations=_remediation(s))
                for i, s in enumerate(top)]
        return _report(incident, self.name, hyps, [ev] if services else [], started)


class LoudestSymptomInvestigator:
    """Ranks services by the rise of their error and latency signals, loudest first."""

    name = "loudest"

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: list[EventListener] | None = None) -> Report:
        started = time.perf_counter()
        base, cur = _periods(incident)
        loud = await _metric_loudness(sources, base, cur)
        source = EvidenceSource.METRICS
        if not any(v.score >= MIN_RISE for v in loud.values()):
            loud, source = await _trace_loudness(sources, base, cur), EvidenceSource.TRACES
        ranked = sorted(((v.score, s) for s, v in loud.items() if v.score >= MIN_RISE),
                        key=lambda x: (-x[0], x[1]))
        evidence: list[Evidence] = []
        hyps: list[Hypothesis] = []
        for i, (score, service) in enumerate(ranked[:MAX_HYPOTHESES]):
            entry = loud[service]
            ev = Evidence(id=f"e{i + 1}", source=source, service=service, time_range=cur,
                          query=f"error and latency rise of {service}",
                          summary=f"{service}: latency +{entry.latency:.0%}, errors +{entry.errors:.0%} "
                                  f"({'; '.join(entry.details[-2:])})"[:400],
                          strength=min(1.0, score / 10))
            evidence.append(ev)
            fault = Fault.CODE_ERROR if entry.errors > entry.latency else Fault.NETWORK_DELAY
            hyps.append(Hypothesis(service=service, fault=fault,
                                   confidence=round(min(0.9, score / (1 + score)), 3),
                                   summary=f"{service} shows the loudest symptom (score {score:.2f})",
                                   supporting=[ev.id], remediations=_remediation(service)))
        return _report(incident, self.name, hyps, evidence, started)
