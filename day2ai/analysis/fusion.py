"""Fusion of metric, log, trace and change evidence into ranked, typed root-cause candidates.

Features per candidate come from :mod:`day2ai.analysis.features`, fault words from
:mod:`day2ai.analysis.faults`. A candidate's *own* anomaly combines its evidence; its rank then
depends on causal position, not loudness: a component whose downstream dependencies are anomalous
and started earlier is probably a victim, one that explains the anomalies upstream of it and
started first is probably the cause; errors originate at the deepest failing span and latency where
self time grows. The fault word comes from the winner's signature.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from day2ai.analysis.faults import fault_scores, type_fault
from day2ai.analysis.features import ANOMALOUS, Features, Signals, build_features, traces_ratio
from day2ai.analysis.features import pos as _pos
from day2ai.analysis.graph import CallGraph
from day2ai.analysis.logs import log_strength
from day2ai.analysis.metrics import MetricKind, strength
from day2ai.models import Fault

__all__ = [
    "ANOMALOUS",
    "Candidate",
    "Features",
    "Signals",
    "build_features",
    "edge_blame",
    "error_blame",
    "fault_scores",
    "rank",
    "traces_ratio",
    "type_fault",
]

# how much the largest per-request pattern shift multiplies a candidate's score (1 + weight x its
# share of the largest shift x the shift's strength); chosen by leave-one-out on the real cases
# (tools/bench_nezha.py --grid day2ai.analysis.fusion.PATTERN_WEIGHT=...), see BENCHMARKS.md
PATTERN_WEIGHT = 4.0
# the score of a candidate no traced request, log line or known call goes through (its metrics alone
# moved): halved, a discount and not a verdict (a component may be uninstrumented); see BENCHMARKS.md
OFF_PATH = 0.5


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


# ------------------------------------------------------------------ ranking


def _onset_factor(victim_onset: float | None, cause_onset: float | None, gap: float = 0.0) -> float:
    if cause_onset is None and gap > 0.5:
        return gap  # time lost around calls to it: it hurts its callers exactly when they suffer
    if victim_onset is None or cause_onset is None:
        return 0.6
    if cause_onset <= victim_onset + 30.0:
        return 1.0
    return 0.25


def error_blame(sig: Signals) -> dict[tuple[str, str], float]:
    """(caller, callee) -> how much more the caller's calls to the callee fail (spans, error lines)."""
    out: dict[tuple[str, str], float] = {}
    if sig.traces is not None:
        for e in sig.traces.edges:
            out[(e.caller, e.callee)] = min(1.0, 2.0 * max(0.0, e.incident_error_rate - e.baseline_error_rate))
    if sig.logs is not None:
        for svc, m, t in sig.logs.error_mentions():
            out[(svc, m)] = max(out.get((svc, m), 0.0), log_strength(t.score))
    return out


def edge_blame(sig: Signals, errors: dict[tuple[str, str], float] | None = None) -> dict[tuple[str, str], float]:
    """(caller, callee) -> how much the caller suffers on its calls to the callee: failing calls
    (:func:`error_blame`, passed in when already computed) or slower ones."""
    out = dict(error_blame(sig) if errors is None else errors)
    if sig.traces is not None:
        for e in sig.traces.edges:
            key = (e.caller, e.callee)
            out[key] = max(out.get(key, 0.0), strength(e.latency_z))
    return out


def _via(n: str, d: str, graph: CallGraph) -> list[str]:
    """The direct callees of n through which d is reached (d itself, or within two more hops)."""
    return [c for c in graph.callees(n) if c == d or d in graph.downstream(c, 2)]


def _path_blame(n: str, via: list[str], blame: dict[tuple[str, str], float]) -> float:
    """The strongest blame n puts on a direct callee in ``via``."""
    return max((blame.get((n, c), 0.0) for c in via), default=0.0)


def _explainable(a: Features, d: Features, cause_d: float, path_errors: float | None = None) -> float:
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
    if path_errors is not None:  # what a's calls towards d show (spans, its error lines naming them)
        return (err * min(1.0, path_errors) + lat * cause_d) / total
    d_err = max(
        _pos(d, MetricKind.ERRORS),
        d.origin,
        d.span_drop,
        _pos(d, MetricKind.RESTARTS),
        d.edge_err_in,
        d.mentioned,
        d.logs * (1.0 if d.new_error_templates else 0.5),
        d.log_origin,
    )
    return (err * min(1.0, d_err) + lat * cause_d) / total


def _can_fail(f: Features) -> float:
    """Evidence that a component fails or makes its callers' calls fail (0..1)."""
    return max(
        _pos(f, MetricKind.ERRORS),
        f.origin,
        f.edge_err_in,
        f.mentioned,
        f.span_drop,
        _pos(f, MetricKind.RESTARTS),
        f.logs if f.new_error_templates else 0.0,
        f.log_origin,
        max(f.caller_hints.values(), default=0.0),
        f.missing,
    )


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
    err_blame = error_blame(sig) if judge_impact else {}
    blame = edge_blame(sig, err_blame) if judge_impact else {}
    near_symptom = _symptom_related(sig.symptom, graph)
    loud_weight = 0.1 if (judge_impact or graph.edges) else 1.0
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
            via = _via(n, d, graph) if judge_impact else []
            path_err = _path_blame(n, via, err_blame) if judge_impact else None
            v = (
                od
                * _onset_factor(f.onset, d_onset, feats[d].gap_in)
                * (0.85 ** (hops - 1))
                * _explainable(f, feats[d], od, path_err)
            )
            if judge_impact:
                v *= 0.3 + 0.7 * min(1.0, 2.0 * _path_blame(n, via, blame))
            # errors that originate in n are its own, unless its error lines say they are calls to d failing
            v *= 1.0 - 0.6 * f.origin * (1.0 - min(1.0, path_err or 0.0))
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
            via = _via(a, n, graph) if judge_impact else []
            path_err = _path_blame(a, via, err_blame) if judge_impact else None
            share = 1.0 if load else _explainable(feats[a], f, cause[n], path_err)
            if judge_impact and not load:
                share *= 0.3 + 0.7 * min(1.0, 2.0 * _path_blame(a, via, blame))
            explained += own[a] * share
        explains = explained / weight if weight else 0.0
        early = 1.0 if (first is not None and f.onset is not None and f.onset <= first + 30.0) else 0.0
        chg = f.change.proximity if f.change is not None and f.change.minutes_before_onset > -5 else 0.0
        impact = 1.0
        if judge_impact and graph.callers(n) and not load:
            # a resource at its ceiling is a fault of its own, whatever its callers show yet
            impact = 0.5 + 0.5 * min(1.0, max(2.0 * f.blamed(), f.saturation))
        # magnitude: breaks near-ties, unless it is all there is (metrics only: no call graph, no
        # spans, no logs), where the size of the change is the best-known signal (robust z, as in BARO)
        loud = min(1.0, math.log10(1.0 + f.metric_z) / 3.0) if loud_weight < 1.0 else min(1.0, f.metric_z / 200.0)
        score = (
            (0.4 * o + 0.6 * f.breadth())
            * impact
            * (1.0 - 0.65 * victim)
            * (1.0 + 0.35 * explains + 0.15 * early + 0.15 * chg)
            * (1.0 + loud_weight * loud)
        )
        # per-request behaviour that changed here more than anywhere else: where a code fault shows
        # (unless anomalies downstream explain it: a failing callee changes its callers' paths too)
        score *= 1.0 + PATTERN_WEIGHT * f.pattern_share * f.pattern * (1.0 - victim) ** 2
        fault, fs = type_fault(f)
        reasons = []
        fails = _can_fail(f)
        if judge_impact and sig.symptom_kind == "errors" and n != sig.symptom and fails < 0.5:
            score *= 0.6 + 0.8 * fails  # an error alert needs a cause that makes calls fail
            reasons.append("little sign that it makes calls fail, while the alert is about errors")
        if f.on_request_path is False:
            # requests are traced, and none of them, no log line and no known call went through it:
            # its metrics moved off the path of what the system served
            score *= OFF_PATH
            reasons.append("no traced request, log line or known call goes through it")
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
        if f.pattern_share >= 1.0:
            reasons.append("its requests changed behaviour (calls, log lines) more than any other service's")
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
