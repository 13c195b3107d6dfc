"""What fusion knows about each candidate component: evidence from every source, as 0..1 features.

Every component is a candidate, including those only seen through their callers (a database in
client spans, a host named in error messages).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from pydantic import BaseModel, Field

from day2ai.analysis.changes import ScoredChange, time_proximity
from day2ai.analysis.graph import CallGraph
from day2ai.analysis.logs import ERROR_RANK, LogAnalysis, log_strength
from day2ai.analysis.metrics import MetricKind, ServiceMetricProfile, strength
from day2ai.analysis.patterns import PatternAnalysis
from day2ai.analysis.periods import Periods
from day2ai.analysis.traces import TraceAnalysis
from day2ai.models import ComponentKind, Fault
from day2ai.sources.base import LEVEL_RANK

ANOMALOUS = 0.45  # own-anomaly level from which a component counts as anomalous


# a pattern shift counts once it is beyond 3 standard deviations (the usual significance level of
# the robust z used for metrics) and beyond the Bonferroni bound over the operations compared; not fitted
PATTERN_MIN_Z = 3.0
_NORMAL = NormalDist()


class Signals(BaseModel):
    """Everything fusion looks at (any part may be empty)."""

    periods: Periods
    graph: CallGraph = Field(default_factory=CallGraph)
    metrics: dict[str, ServiceMetricProfile] = Field(default_factory=dict)
    logs: LogAnalysis | None = None
    traces: TraceAnalysis | None = None
    patterns: PatternAnalysis | None = None
    changes: list[ScoredChange] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)  # known names (topology, sources)
    symptom: str | None = None
    symptom_kind: str | None = None  # 'errors' / 'latency' when the alert says which


class Features(BaseModel):
    """What fusion knows about one candidate (0..1 strengths unless noted)."""

    service: str
    kind: ComponentKind | None = None
    metric: float = 0.0
    metric_up: float = 0.0  # anomalies in a fault-like direction only (no load drops)
    metric_z: float = 0.0  # the raw robust z behind metric_up (tie-breaker once strengths saturate)
    metric_kinds: dict[MetricKind, float] = Field(default_factory=dict)  # signed strengths
    up_kinds: dict[MetricKind, float] = Field(default_factory=dict)  # strengths of increases
    ramp_memory: float = 0.0
    missing: float = 0.0
    logs: float = 0.0
    new_error_templates: int = 0
    new_errors: float = 0.0  # its own new or surging error templates that name no peer or other fault
    saturation: float = 0.0  # a 0..1 resource ratio (CPU, memory, connections) at its ceiling
    log_origin: float = 0.0  # new errors here and not in its callees, with callers failing (Nezha-like)
    callers_new_errors: float = 0.0  # its callers' own new error templates, when it has new errors too
    hints: dict[Fault, float] = Field(default_factory=dict)  # own log lines
    caller_hints: dict[Fault, float] = Field(default_factory=dict)  # callers' lines naming it
    mentioned: float = 0.0
    self_time: float = 0.0
    latency: float = 0.0
    origin: float = 0.0
    error_rate_delta: float = 0.0
    span_drop: float = 0.0  # share of baseline traffic that vanished
    edge_in: float = 0.0  # latency/error change of calls into it (for telemetry-less components)
    edge_err_in: float = 0.0  # error-rate change of calls into it
    edge_lat_in: float = 0.0  # latency change of calls into it
    gap_in: float = 0.0  # time lost around calls into it that its own spans do not see (network path)
    pattern: float = 0.0  # its per-request patterns changed (novel or vanished calls and log templates)
    pattern_share: float = 0.0  # its pattern shift relative to the largest one (0..1)
    pattern_conf: float = 0.0  # confidence that its shift is not chance: 1 - its Bonferroni-adjusted p
    change: ScoredChange | None = None
    own_telemetry: bool = False
    # in some traced request, log line or known call (None: no spans to tell); False: its metrics
    # moved but no request the system served went through it
    on_request_path: bool | None = None
    onset: float | None = None
    keys: list[str] = Field(default_factory=list)  # finding keys supporting it

    def own(self) -> float:
        """How anomalous the component itself looks (any direction)."""
        return self._combine(self.metric, 0.6 * self.span_drop)

    def cause_like(self) -> float:
        """Anomaly in a direction a fault causes (what makes it a cause for its callers); callers'
        error lines that name it with a fault word count too: a TLS or connection failure stops
        requests before its own telemetry sees them."""
        blamed_by_name = 0.9 * max(self.caller_hints.values(), default=0.0)
        return 1.0 - (1.0 - self._combine(self.metric_up, 0.0)) * (1.0 - blamed_by_name)

    def breadth(self) -> float:
        """How many independent evidence families agree (0..1): corroboration, not loudness."""
        if not self.own_telemetry:  # only seen through its callers: judge on what can be seen
            return (max(self.self_time, self.origin, self.edge_in) + self.blamed()) / 2.0
        return (
            max(self.metric_up, 0.7 * self.metric)
            + max(0.9 * self.logs, self.log_origin)
            + max(self.self_time, self.origin, self.gap_in, self.pattern)
            + self.blamed()
        ) / 4.0

    def blamed(self) -> float:
        """How much its callers suffer on calls to it (span edges, error lines naming it)."""
        return max(self.edge_in, self.mentioned, max(self.caller_hints.values(), default=0.0), self.callers_new_errors)

    def _combine(self, metric: float, drop: float) -> float:
        parts = [metric, 0.9 * self.logs, self.log_origin, self.self_time, self.origin, 0.7 * self.latency, drop]
        parts.append(self.pattern)
        if not self.own_telemetry:
            parts += [0.9 * self.edge_in, 0.8 * self.mentioned]
        else:
            parts += [0.5 * self.edge_in]
        return 1.0 - math.prod(1.0 - min(max(p, 0.0), 0.999) for p in parts)


# ------------------------------------------------------------------ features


def _candidates(sig: Signals) -> list[str]:
    names: dict[str, None] = {}
    for group in (
        sig.components,
        list(sig.graph.nodes),
        list(sig.metrics),
        list(sig.logs.profiles) if sig.logs else [],
        list(sig.traces.profiles) if sig.traces else [],
        [c.service for c in sig.changes],
    ):
        for n in group:
            names.setdefault(n, None)
    if sig.logs:
        for p in sig.logs.profiles.values():
            for m, score in p.mentions.items():
                if score > 3.0:
                    names.setdefault(m, None)
    return list(names)


def build_features(sig: Signals) -> dict[str, Features]:
    feats = {n: Features(service=n, kind=sig.graph.kinds.get(n)) for n in _candidates(sig)}
    for svc, prof in sig.metrics.items():
        f = feats[svc]
        f.own_telemetry = True
        f.metric = strength(prof.score)
        f.metric_z = max(
            (a.score for a in prof.by_kind.values() if a.direction > 0 and a.kind is not MetricKind.TRAFFIC),
            default=0.0,
        )
        f.metric_up = strength(f.metric_z)
        f.up_kinds = {k: strength(v) for k, v in prof.up.items()}
        f.ramp_memory = prof.ramps.get(MetricKind.MEMORY, 0.0)
        f.saturation = prof.saturation
        for kind, a in prof.by_kind.items():
            f.metric_kinds[kind] = math.copysign(strength(a.score), a.direction or 1)
            f.missing = max(f.missing, a.missing)
            if a.score >= 4.0 and a.bad_direction:  # a falling memory curve supports no fault
                f.keys.append(f"metric:{svc}:{kind.value}")
        f.onset = prof.onset
    if sig.logs:
        _log_features(sig.logs, feats)
        _log_origins(sig.graph, feats)
    if sig.traces:
        _trace_features(sig.traces, feats)
    if sig.patterns:
        _pattern_features(sig.patterns, feats)
    if sig.traces is not None and sig.traces.spans > 0:
        _request_paths(sig, feats)
    for ch in sig.changes:
        f = feats[ch.service]
        ch = _near_own_onset(ch, f.onset)
        if f.change is None or ch.proximity > f.change.proximity:
            f.change = ch
    for f in feats.values():
        if f.change is not None and f.change.proximity >= 0.2:
            f.keys.append(f"change:{f.service}:{f.change.timestamp:.0f}")
    return feats


def _near_own_onset(ch: ScoredChange, onset: float | None) -> ScoredChange:
    """Score a change against the onset of the component it touched, when that is closer: a change
    matters relative to when *that* component went bad, which may lag the incident's first anomaly."""
    if onset is None:
        return ch
    own = time_proximity(ch.timestamp, onset)
    if own <= ch.proximity:
        return ch
    return ch.model_copy(
        update={"proximity": round(own, 4), "minutes_before_onset": round((onset - ch.timestamp) / 60.0, 1)}
    )


def _log_features(logs: LogAnalysis, feats: dict[str, Features]) -> None:
    for svc, prof in logs.profiles.items():
        f = feats[svc]
        f.own_telemetry = True
        f.logs = log_strength(prof.score)
        f.new_error_templates = sum(1 for t in prof.templates if t.is_new and t.is_error)
        f.hints = {h: log_strength(v) for h, v in prof.hints.items()}
        if prof.onset is not None and (f.onset is None or prof.onset < f.onset - 60):
            f.onset = prof.onset if f.onset is None else min(f.onset, prof.onset)
        plain = [t for t in prof.templates if t.is_error and not t.mentions and not t.hosts]
        plain = [t for t in plain if not t.hints or t.hints[0] is Fault.CODE_ERROR]
        # the developer's own severity: a WARN line whose text sounds like an error counts half
        f.new_errors = max(
            (
                (logs.newness(t) if t.is_new else log_strength(t.score))
                * (1.0 if LEVEL_RANK.get(t.level or "", ERROR_RANK) >= ERROR_RANK else 0.5)
                for t in plain
            ),
            default=0.0,
        )
        for t in prof.templates[:4]:
            f.keys.append(f"log:{svc}:{t.template_id}")
    for svc, m, t in logs.error_mentions():
        g = feats.get(m)
        if g is None:
            continue
        g.mentioned = max(g.mentioned, log_strength(t.score))
        for i, h in enumerate(t.hints):
            v = log_strength(t.score) * (1.0 if i == 0 else 0.3)
            g.caller_hints[h] = max(g.caller_hints.get(h, 0.0), v)
        key = f"log:{svc}:{t.template_id}"
        if key not in g.keys:
            g.keys.append(key)


def _log_origins(graph: CallGraph, feats: dict[str, Features]) -> None:
    """Where new error patterns start along the call graph (in the spirit of Nezha): a component with
    new error templates of its own whose callees show none is where they originate; callers with new
    errors of their own corroborate it (their calls fail). The call graph comes from spans, logs or
    the topology."""
    for n, f in feats.items():
        if f.new_errors <= 0.0:
            continue
        below = max((feats[c].new_errors for c in graph.callees(n) if c in feats), default=0.0)
        above = max((feats[c].new_errors for c in graph.callers(n) if c in feats), default=0.0)
        f.log_origin = f.new_errors * (1.0 - below) * (0.5 + 0.5 * above)
        f.callers_new_errors = above * (1.0 - below)


def _trace_features(traces: TraceAnalysis, feats: dict[str, Features]) -> None:
    for svc, p in traces.profiles.items():
        f = feats[svc]
        if not p.peer_only:
            f.own_telemetry = True
        f.self_time = strength(p.self_time_z) if p.incident_spans >= 3 else 0.0
        f.latency = strength(p.latency_z)
        f.error_rate_delta = max(0.0, p.incident_error_rate - p.baseline_error_rate)
        if p.origin_errors >= 3:
            f.origin = (
                min(1.0, p.origin_share * (0.5 + 5.0 * f.error_rate_delta))
                if not p.peer_only
                else min(1.0, p.origin_share)
            )
        if p.baseline_spans >= 10 and not p.peer_only:
            f.span_drop = max(
                0.0, 1.0 - (p.incident_spans / max(p.baseline_spans, 1)) / max(traces_ratio(traces), 1e-9)
            )
            f.span_drop = f.span_drop if f.span_drop > 0.5 else 0.0
        if p.onset is not None and (f.onset is None or p.onset < f.onset):
            f.onset = p.onset
        if f.self_time > 0.3 or f.origin > 0.2 or f.latency > 0.5 or f.span_drop > 0:
            f.keys.append(f"trace:{svc}")
    gaps = call_gaps(traces)
    for (caller, _callee), gap in gaps.items():
        if caller in feats and gap > 0.0:
            feats[caller].self_time *= 1.0 - gap  # time lost around its calls to one callee is not its own work
    for e in traces.edges:
        g = feats.get(e.callee)
        if g is None:
            continue
        err = min(1.0, 2.0 * max(0.0, e.incident_error_rate - e.baseline_error_rate))
        gap = gaps.get((e.caller, e.callee), 0.0)
        g.gap_in = max(g.gap_in, gap)
        lat = max(strength(e.latency_z), gap)
        value = max(lat, err)
        g.edge_in = max(g.edge_in, value)
        g.edge_err_in = max(g.edge_err_in, err)
        g.edge_lat_in = max(g.edge_lat_in, lat)
        if value > 0.3:
            g.keys.append(f"edge:{e.caller}->{e.callee}")


def _request_paths(sig: Signals, feats: dict[str, Features]) -> None:
    traced = sig.traces.profiles if sig.traces is not None else {}
    logged = sig.logs.profiles if sig.logs is not None else {}
    on_edges = {callee for callees in sig.graph.edges.values() for callee in callees} | set(sig.graph.edges)
    for svc, f in feats.items():
        p = traced.get(svc)
        f.on_request_path = (
            (p is not None and p.baseline_spans + p.incident_spans > 0)
            or svc in logged
            or svc in on_edges
            or f.mentioned > 0.0
            or f.blamed() > 0.0
        )


def _pattern_features(pa: PatternAnalysis, feats: dict[str, Features]) -> None:
    critical = max(PATTERN_MIN_Z, pa.critical_z)
    top = pa.top_z() - critical
    for svc, shift in pa.shifts.items():
        f = feats.get(svc)
        if f is None or shift.z <= critical:
            continue
        f.pattern = strength(shift.z - critical)  # its significance beyond the bound
        f.pattern_share = (shift.z - critical) / top
        # the bound is where the adjusted p is 5%: scale its tail to the shift's
        f.pattern_conf = 1.0 - 0.05 * _NORMAL.cdf(-shift.z) / _NORMAL.cdf(-critical)
        f.keys.append(f"pattern:{svc}")


def call_gaps(traces: TraceAnalysis) -> dict[tuple[str, str], float]:
    """(caller, callee) -> time lost around the calls (0..1): the caller's own time grew in the spans
    that call this callee more than in its other calls, and the callee's spans do not show it (the
    network path, the client side). Seen from one caller with no other calls it counts half."""
    by_caller: dict[str, list[tuple[str, float]]] = {}
    for e in traces.edges:
        if not e.peer_only:
            by_caller.setdefault(e.caller, []).append((e.callee, strength(e.gap_z)))
    callers_of: dict[str, int] = {}
    for edges in by_caller.values():
        for callee, gap in edges:
            callers_of[callee] = callers_of.get(callee, 0) + (gap > 0.5)
    out: dict[tuple[str, str], float] = {}
    for caller, edges in by_caller.items():
        for callee, gap in edges:
            others = sorted(g for c, g in edges if c != callee)
            if others:
                gap *= 1.0 - others[len(others) // 2]  # the caller is slow on all its calls: its own time
            elif callers_of.get(callee, 0) < 2:
                gap *= 0.5
            out[(caller, callee)] = gap
    return out


def traces_ratio(traces: TraceAnalysis) -> float:
    """Incident/baseline span-count ratio over all services (normalises period lengths)."""
    b = sum(p.baseline_spans for p in traces.profiles.values() if not p.peer_only)
    i = sum(p.incident_spans for p in traces.profiles.values() if not p.peer_only)
    return i / b if b else 1.0


def pos(f: Features, kind: MetricKind) -> float:
    """Strength of an increase of ``kind`` at the component (0 when it fell or is unknown)."""
    return max(0.0, f.metric_kinds.get(kind, 0.0), f.up_kinds.get(kind, 0.0))
