"""Fusion of metric, log, trace and change evidence into ranked, typed root-cause candidates.

Every component is a candidate, including those only seen through their callers (a database in
client spans, a host named in error messages). A candidate's *own* anomaly combines its evidence;
its rank then depends on causal position, not loudness: a component whose downstream dependencies
are anomalous and started earlier is probably a victim, one that explains the anomalies upstream of
it and started first is probably the cause; errors originate at the deepest failing span and
latency where self time grows. The fault word comes from the winner's signature.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from day2ai.analysis.changes import ScoredChange
from day2ai.analysis.graph import CallGraph
from day2ai.analysis.logs import LogAnalysis, log_strength
from day2ai.analysis.metrics import MetricKind, ServiceMetricProfile, strength
from day2ai.analysis.periods import Periods
from day2ai.analysis.traces import TraceAnalysis
from day2ai.models import ChangeKind, ComponentKind, Fault

ANOMALOUS = 0.45  # own-anomaly level from which a component counts as anomalous


class Signals(BaseModel):
    """Everything fusion looks at (any part may be empty)."""

    periods: Periods
    graph: CallGraph = Field(default_factory=CallGraph)
    metrics: dict[str, ServiceMetricProfile] = Field(default_factory=dict)
    logs: LogAnalysis | None = None
    traces: TraceAnalysis | None = None
    changes: list[ScoredChange] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)  # known names (topology, sources)
    symptom: str | None = None


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
    change: ScoredChange | None = None
    own_telemetry: bool = False
    onset: float | None = None
    keys: list[str] = Field(default_factory=list)  # finding keys supporting it

    def own(self) -> float:
        """How anomalous the component itself looks (any direction)."""
        return self._combine(self.metric, 0.6 * self.span_drop)

    def cause_like(self) -> float:
        """Anomaly in a direction a fault causes (what makes it a cause for its callers)."""
        return self._combine(self.metric_up, 0.0)

    def breadth(self) -> float:
        """How many independent evidence families agree (0..1): corroboration, not loudness."""
        if not self.own_telemetry:  # only seen through its callers: judge on what can be seen
            return (max(self.self_time, self.origin, self.edge_in) + self.blamed()) / 2.0
        return (
            max(self.metric_up, 0.7 * self.metric) + 0.9 * self.logs + max(self.self_time, self.origin) + self.blamed()
        ) / 4.0

    def blamed(self) -> float:
        """How much its callers suffer on calls to it (span edges, error lines naming it)."""
        return max(self.edge_in, self.mentioned, max(self.caller_hints.values(), default=0.0))

    def _combine(self, metric: float, drop: float) -> float:
        parts = [metric, 0.9 * self.logs, self.self_time, self.origin, 0.7 * self.latency, drop]
        if not self.own_telemetry:
            parts += [0.9 * self.edge_in, 0.8 * self.mentioned]
        else:
            parts += [0.5 * self.edge_in]
        return 1.0 - math.prod(1.0 - min(max(p, 0.0), 0.999) for p in parts)


class Candidate(BaseModel):
    service: str
    score: float
    own: float
    victim: float  # how much downstream anomalies with earlier onset explain it
    explains: float  # share of anomalous components upstream of it
    fault: Fault
    fault_scores: dict[Fault, float]
    confidence: float = 0.0
    onset: float | None = None
    supporting: list[str] = Field(default_factory=list)
    contradicting: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


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
        for kind, a in prof.by_kind.items():
            f.metric_kinds[kind] = math.copysign(strength(a.score), a.direction or 1)
            f.missing = max(f.missing, a.missing)
            if a.score >= 4.0:
                f.keys.append(f"metric:{svc}:{kind.value}")
        f.onset = prof.onset
    if sig.logs:
        _log_features(sig.logs, feats)
    if sig.traces:
        _trace_features(sig.traces, feats)
    for ch in sig.changes:
        f = feats[ch.service]
        if f.change is None or ch.proximity > f.change.proximity:
            f.change = ch
    for f in feats.values():
        if f.change is not None and f.change.proximity >= 0.2:
            f.keys.append(f"change:{f.service}:{f.change.timestamp:.0f}")
    return feats


def _log_features(logs: LogAnalysis, feats: dict[str, Features]) -> None:
    for svc, prof in logs.profiles.items():
        f = feats[svc]
        f.own_telemetry = True
        f.logs = log_strength(prof.score)
        f.new_error_templates = sum(1 for t in prof.templates if t.is_new and t.is_error)
        f.hints = {h: log_strength(v) for h, v in prof.hints.items()}
        if prof.onset is not None and (f.onset is None or prof.onset < f.onset - 60):
            f.onset = prof.onset if f.onset is None else min(f.onset, prof.onset)
        for t in prof.templates[:4]:
            f.keys.append(f"log:{svc}:{t.template_id}")
        for t in prof.templates:
            if not t.is_error or t.score <= 2.0:
                continue
            for m in [*t.mentions, *t.hosts]:
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
    for e in traces.edges:
        g = feats.get(e.callee)
        if g is None:
            continue
        err = min(1.0, 2.0 * max(0.0, e.incident_error_rate - e.baseline_error_rate))
        lat = strength(e.latency_z)
        value = max(lat, err)
        g.edge_in = max(g.edge_in, value)
        g.edge_err_in = max(g.edge_err_in, err)
        g.edge_lat_in = max(g.edge_lat_in, lat)
        if value > 0.3:
            g.keys.append(f"edge:{e.caller}->{e.callee}")


def traces_ratio(traces: TraceAnalysis) -> float:
    """Incident/baseline span-count ratio over all services (normalises period lengths)."""
    b = sum(p.baseline_spans for p in traces.profiles.values() if not p.peer_only)
    i = sum(p.incident_spans for p in traces.profiles.values() if not p.peer_only)
    return i / b if b else 1.0


# ------------------------------------------------------------------ fault typing


def _pos(f: Features, kind: MetricKind) -> float:
    return max(0.0, f.metric_kinds.get(kind, 0.0), f.up_kinds.get(kind, 0.0))


def fault_scores(f: Features) -> dict[Fault, float]:
    h = f.hints
    ch = f.caller_hints
    change = f.change
    prox = change.proximity if change is not None else 0.0
    deploy = prox if change is not None and change.kind is ChangeKind.DEPLOY else 0.0
    config = prox if change is not None and change.kind in (ChangeKind.CONFIG, ChangeKind.FEATURE_FLAG) else 0.0
    errors = max(f.logs, f.origin, _pos(f, MetricKind.ERRORS), min(1.0, 2 * f.error_rate_delta))
    cpu, mem, disk = _pos(f, MetricKind.CPU), _pos(f, MetricKind.MEMORY), _pos(f, MetricKind.DISK)
    traffic_up = _pos(f, MetricKind.TRAFFIC)
    restarts = _pos(f, MetricKind.RESTARTS)
    resource = max(cpu, mem, disk)
    s: dict[Fault, float] = {}
    traffic_down = max(0.0, -f.metric_kinds.get(MetricKind.TRAFFIC, 0.0))
    down = max(f.span_drop, traffic_down, f.missing)
    s[Fault.CERTIFICATE_EXPIRY] = 1.2 * max(h.get(Fault.CERTIFICATE_EXPIRY, 0.0), ch.get(Fault.CERTIFICATE_EXPIRY, 0.0))
    external = f.kind in (ComponentKind.DATABASE, ComponentKind.EXTERNAL, ComponentKind.CACHE, ComponentKind.QUEUE)
    # a client-side pool: a datastore's own connection count belongs to dependency_failure; pool waits in
    # a CPU-starved process are a symptom of the CPU
    s[Fault.CONNECTION_POOL_EXHAUSTION] = max(
        1.1 * h.get(Fault.CONNECTION_POOL_EXHAUSTION, 0.0) * (1.0 - 0.4 * cpu),
        0.9 * ch.get(Fault.CONNECTION_POOL_EXHAUSTION, 0.0),
        0.0 if external else 0.6 * _pos(f, MetricKind.CONNECTIONS) * (1.0 - 0.5 * cpu),
    )
    leak_ramp = f.ramp_memory if f.ramp_memory >= 0.8 else 0.0
    s[Fault.MEMORY_LEAK] = max(
        mem * (0.6 + 0.4 * f.ramp_memory) + 0.4 * restarts * (mem > 0.3),
        leak_ramp * max(restarts, 0.6, mem),
        1.1 * h.get(Fault.MEMORY_LEAK, 0.0),
    )
    s[Fault.DISK_FULL] = max(disk, 1.1 * h.get(Fault.DISK_FULL, 0.0))
    s[Fault.CPU_SATURATION] = cpu * (1.0 - 0.6 * traffic_up) * (1.0 - 0.5 * restarts * (mem > 0.3))
    s[Fault.TRAFFIC_SURGE] = traffic_up * (0.5 + 0.5 * max(cpu, f.latency, h.get(Fault.TRAFFIC_SURGE, 0.0)))
    crash_text = max(h.get(Fault.SERVICE_CRASH, 0.0), ch.get(Fault.SERVICE_CRASH, 0.0))
    s[Fault.SERVICE_CRASH] = max(
        restarts * (1.0 - 0.7 * max(mem, leak_ramp)), 0.8 * down * max(crash_text, restarts), 0.6 * crash_text
    ) * (1.0 - 0.5 * max(deploy, config))
    s[Fault.PACKET_LOSS] = max(
        _pos(f, MetricKind.PACKETS), 0.9 * h.get(Fault.PACKET_LOSS, 0.0), 0.8 * ch.get(Fault.PACKET_LOSS, 0.0)
    ) * (1.0 - 0.5 * resource)
    delay = max(f.latency, f.edge_lat_in, _pos(f, MetricKind.LATENCY), _pos(f, MetricKind.NETWORK))
    s[Fault.NETWORK_DELAY] = 0.7 * delay * (1.0 - resource) * (1.0 - 0.5 * errors) + 0.3 * max(
        h.get(Fault.NETWORK_DELAY, 0.0), ch.get(Fault.NETWORK_DELAY, 0.0)
    )
    # a datastore or third party has no code of ours: errors originating there are its failure
    code = 0.0 if external else max(h.get(Fault.CODE_ERROR, 0.0), 0.8 * ch.get(Fault.CODE_ERROR, 0.0), f.origin * 0.8)
    s[Fault.CODE_ERROR] = 0.8 * code * (1.0 - 0.6 * max(deploy, config))
    anomaly = max(errors, f.latency, f.self_time, resource)
    s[Fault.BAD_DEPLOY] = deploy * anomaly * (1.0 if f.new_error_templates or errors > 0.4 else 0.8)
    s[Fault.CONFIG_ERROR] = max(
        config * anomaly, 0.9 * h.get(Fault.CONFIG_ERROR, 0.0), 0.8 * ch.get(Fault.CONFIG_ERROR, 0.0)
    )
    s[Fault.DEPENDENCY_FAILURE] = (0.9 if external else 0.7 if not f.own_telemetry else 0.0) * _dependency(f, cpu)
    return {k: round(min(v, 1.5), 4) for k, v in s.items()}


def _dependency(f: Features, cpu: float) -> float:
    """How much a dependency looks failed itself: its callers' calls fail, their lines say so, or it is
    slow on its own side. Slowness seen only by callers while its own metrics stay flat points at the
    network path instead (network_delay); its own CPU saturation is the more specific answer."""
    h, ch = f.hints, f.caller_hints
    timeouts = ch.get(Fault.NETWORK_DELAY, 0.0)  # calls that failed by timing out: slowness, not failure
    failing = max(
        max(f.edge_err_in, f.origin if not f.own_telemetry else 0.0) * (1.0 - 0.5 * timeouts),
        1.1 * max(h.get(Fault.DEPENDENCY_FAILURE, 0.0), ch.get(Fault.DEPENDENCY_FAILURE, 0.0)),
        0.8 * ch.get(Fault.SERVICE_CRASH, 0.0),
        # a datastore at its connection limit refuses clients (unless its CPU explains the pile-up)
        _pos(f, MetricKind.CONNECTIONS) * (1.0 - 0.5 * cpu),
    )
    seen_slow = max(f.latency, f.edge_lat_in)
    if f.kind is ComponentKind.EXTERNAL:
        slow = seen_slow  # a third party's side and the path to it are one thing to us
    elif f.own_telemetry:
        slow = _pos(f, MetricKind.LATENCY) * (1.0 - 0.5 * cpu)
    else:
        slow = 0.7 * seen_slow  # cannot tell its own side from the network path
    return max(failing, slow, 0.45 * max(seen_slow, f.mentioned, 0.5))


def type_fault(f: Features) -> tuple[Fault, dict[Fault, float]]:
    scores = fault_scores(f)
    best = max(scores.items(), key=lambda kv: kv[1])
    if best[1] < 0.05:
        return Fault.OTHER, scores
    return best[0], scores


# ------------------------------------------------------------------ ranking


def _onset_factor(victim_onset: float | None, cause_onset: float | None) -> float:
    if victim_onset is None or cause_onset is None:
        return 0.6
    if cause_onset <= victim_onset + 30.0:
        return 1.0
    return 0.25


def edge_blame(sig: Signals) -> dict[tuple[str, str], float]:
    """(caller, callee) -> how much the caller suffers on its calls to the callee (spans, error lines)."""
    out: dict[tuple[str, str], float] = {}
    if sig.traces is not None:
        for e in sig.traces.edges:
            err = max(0.0, e.incident_error_rate - e.baseline_error_rate)
            out[(e.caller, e.callee)] = max(strength(e.latency_z), min(1.0, 2.0 * err))
    if sig.logs is not None:
        for prof in sig.logs.profiles.values():
            for t in prof.templates:
                if not t.is_error or t.score <= 2.0:
                    continue
                for m in [*t.mentions, *t.hosts]:
                    key = (prof.service, m)
                    out[key] = max(out.get(key, 0.0), log_strength(t.score))
    return out


def _path_blame(n: str, d: str, graph: CallGraph, blame: dict[tuple[str, str], float]) -> float:
    """The strongest blame n puts on a direct callee through which d is reached."""
    best = 0.0
    for c in graph.callees(n):
        if c == d or d in graph.downstream(c, 2):
            best = max(best, blame.get((n, c), 0.0))
    return best


def _explainable(a: Features, d: Features, cause_d: float) -> float:
    """Share of ``a``'s anomaly that an anomaly at its dependency ``d`` can explain: slowness spreads
    to callers as latency and pool waits, failures as errors; neither restarts ``a`` nor fills its
    memory or disk."""
    err = max(
        _pos(a, MetricKind.ERRORS), min(1.0, 2.0 * a.error_rate_delta), a.logs * (1.0 if a.new_error_templates else 0.5)
    )
    lat = max(_pos(a, MetricKind.LATENCY), a.latency, _pos(a, MetricKind.CONNECTIONS))
    own = max(_pos(a, MetricKind.RESTARTS), _pos(a, MetricKind.DISK), 0.5 * _pos(a, MetricKind.MEMORY))
    total = err + lat + own
    if total <= 0.05:
        return 1.0
    d_err = max(
        _pos(d, MetricKind.ERRORS),
        d.origin,
        d.span_drop,
        _pos(d, MetricKind.RESTARTS),
        d.edge_err_in,
        d.mentioned,
        d.logs * (1.0 if d.new_error_templates else 0.5),
    )
    return (err * min(1.0, d_err) + lat * cause_d) / total


def _load_source(n: str, feats: dict[str, Features], graph: CallGraph) -> bool:
    """Traffic rose here but not at its callers: the surge enters the system here."""
    if _pos(feats[n], MetricKind.TRAFFIC) < 0.5:
        return False
    return all(_pos(feats[c], MetricKind.TRAFFIC) < 0.3 for c in graph.callers(n) if c in feats)


def _surge_from_callers(n: str, feats: dict[str, Features], graph: CallGraph) -> float:
    """How much of a traffic rise at ``n`` is passed on by callers whose own incoming traffic rose."""
    mine = _pos(feats[n], MetricKind.TRAFFIC)
    if mine < 0.5:
        return 0.0
    return max((min(mine, _pos(feats[c], MetricKind.TRAFFIC)) for c in graph.callers(n) if c in feats), default=0.0)


def _symptom_related(symptom: str | None, graph: CallGraph) -> set[str]:
    """Components on a call path from or to the symptom service (empty when that is unknown)."""
    if not symptom or symptom not in graph.nodes or len(graph.nodes) < 3:
        return set()
    return {symptom, *graph.downstream(symptom, 12), *graph.upstream(symptom, 12)}


def rank(sig: Signals, top: int = 10) -> list[Candidate]:
    feats = build_features(sig)
    own = {n: f.own() for n, f in feats.items()}
    cause = {n: f.cause_like() for n, f in feats.items()}
    anomalous = [n for n, v in own.items() if v >= ANOMALOUS]
    onsets = [o for n in anomalous if (o := feats[n].onset) is not None]
    first = min(onsets) if onsets else None
    graph = sig.graph
    judge_impact = sig.traces is not None or sig.logs is not None
    blame = edge_blame(sig) if judge_impact else {}
    near_symptom = _symptom_related(sig.symptom, graph)
    cands: list[Candidate] = []
    for n, f in feats.items():
        o = own[n]
        if o <= 0.02:
            continue
        load = _load_source(n, feats, graph)
        victim, contra = 0.0, list[str]()
        for d, hops in ({} if load else graph.downstream(n, 3)).items():
            od = cause.get(d, 0.0)
            if od < ANOMALOUS:
                continue
            d_onset = feats[d].onset if feats[d].own_telemetry else None  # caller-side onsets lag
            v = od * _onset_factor(f.onset, d_onset) * (0.85 ** (hops - 1)) * _explainable(f, feats[d], od)
            if judge_impact:
                v *= 0.3 + 0.7 * min(1.0, 2.0 * _path_blame(n, d, graph, blame))
            v *= 1.0 - 0.6 * f.origin  # errors that originate in n are its own
            if v > 0.25:
                contra.extend(k for k in feats[d].keys[:1] if k not in contra)
            victim = max(victim, v)
        surge_in = _surge_from_callers(n, feats, graph)
        if surge_in > 0.25:  # its extra traffic arrives from callers whose own traffic rose
            victim = max(victim, 0.8 * surge_in)
        related = graph.downstream(n, 4) if load else graph.upstream(n, 4)
        others = [a for a in anomalous if a != n]
        weight = sum(own[a] for a in others)
        explained = 0.0
        for a in others:
            if a not in related:
                continue
            share = 1.0 if load else _explainable(feats[a], f, cause[n])
            if judge_impact and not load:
                share *= 0.3 + 0.7 * min(1.0, 2.0 * _path_blame(a, n, graph, blame))
            explained += own[a] * share
        explains = explained / weight if weight else 0.0
        early = 1.0 if (first is not None and f.onset is not None and f.onset <= first + 30.0) else 0.0
        chg = f.change.proximity if f.change is not None and f.change.minutes_before_onset > -5 else 0.0
        impact = 1.0
        if judge_impact and graph.callers(n) and not load:
            impact = 0.5 + 0.5 * min(1.0, 2.0 * f.blamed())
        loud = min(1.0, math.log10(1.0 + f.metric_z) / 3.0)  # magnitude: only breaks near-ties
        score = (
            (0.4 * o + 0.6 * f.breadth())
            * impact
            * (1.0 - 0.65 * victim)
            * (1.0 + 0.35 * explains + 0.15 * early + 0.15 * chg)
            * (1.0 + 0.1 * loud)
        )
        fault, fs = type_fault(f)
        reasons = []
        if near_symptom and n not in near_symptom:
            score *= 0.7  # the graph may be incomplete: a discount, not a verdict
            reasons.append(f"not on a call path to or from the symptom service {sig.symptom}")
        if load:
            reasons.append("traffic rose here and not at its callers")
        if victim > 0.3:
            reasons.append("downstream dependencies are anomalous and started no later")
        if explains > 0.3:
            reasons.append(f"explains {explains:.0%} of the other anomalies along the call graph")
        if impact < 0.75:
            reasons.append("its callers show little impact from it")
        if early:
            reasons.append("among the earliest onsets")
        cands.append(
            Candidate(
                service=n,
                score=round(score, 4),
                own=round(o, 4),
                victim=round(victim, 4),
                explains=round(explains, 4),
                fault=fault,
                fault_scores=fs,
                onset=f.onset,
                supporting=list(dict.fromkeys(f.keys)),
                contradicting=contra[:3],
                reasons=reasons,
            )
        )
    cands.sort(key=lambda c: (-c.score, c.service))
    cands = cands[:top]
    _calibrate(cands, sig)
    return cands


def _calibrate(cands: list[Candidate], sig: Signals) -> None:
    """Confidence of the first candidate from its relative score margin over the second (logistic,
    fitted once on the dev suite: margin >= 0.35 was right ~92% of the time, below ~68%), lowered
    for each missing evidence source; the rest share what is left, in proportion to their scores.
    """
    if not cands:
        return
    missing = sum(x is None or x == {} for x in (sig.metrics, sig.logs, sig.traces))
    s1 = cands[0].score
    s2 = cands[1].score if len(cands) > 1 else 0.0
    margin = (s1 - s2) / s1 if s1 > 0 else 0.0
    top = 1.0 / (1.0 + math.exp(-(3.0 * margin + 0.6 - 0.4 * missing)))
    top *= min(1.0, 0.5 + cands[0].own)  # a barely anomalous winner is a weak answer
    cands[0].confidence = round(min(0.97, top), 3)
    rest = sum(c.score for c in cands[1:])
    for c in cands[1:]:
        c.confidence = round((1.0 - top) * (c.score / rest) if rest > 0 else 0.0, 3)
