"""Metric anomalies: robust per-series scores of the incident period against the baseline.

BARO-style: each series is standardised with the median and a robust scale of its baseline,
then scored by its sustained peak in the incident period (a single spike does not count).
Onsets are the first time the series leaves its baseline band and stays out. Metric names are
classified heuristically (cpu, memory, latency, errors ...) so unknown naming schemes still work;
unknown names are scored generically as ``other``. Per-pod series stay separate (a single pod
can be the culprit) and are aggregated to their service in :func:`service_profiles`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict

from day2ai.analysis.periods import Periods, baseline_label, needs_pre

Z_CAP = 1000.0
ONSET_Z = 4.0


class MetricKind(StrEnum):
    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    NETWORK = "network"
    PACKETS = "packets"
    LATENCY = "latency"
    ERRORS = "errors"
    TRAFFIC = "traffic"
    RESTARTS = "restarts"
    CONNECTIONS = "connections"
    THREADS = "threads"
    GC = "gc"
    OTHER = "other"


# Order matters: the first matching rule wins.
_RULES: tuple[tuple[MetricKind, re.Pattern[str]], ...] = (
    (MetricKind.RESTARTS, re.compile(r"restart|oom|crash|killed|(^|_)up$|liveness|terminated")),
    (MetricKind.GC, re.compile(r"(^|_)gc(_|$)|garbage")),
    (MetricKind.PACKETS, re.compile(r"drop|loss|retrans|packet|reset|(rx|tx|receive|transmit)_?err")),
    (MetricKind.CONNECTIONS, re.compile(r"conn|pool|socket|session|(^|_)fd(s)?(_|$)|file_?desc")),
    (
        MetricKind.LATENCY,
        re.compile(r"latency|duration|response_?time|(^|_)rt(_|$)|wait|delay|p\d\d|elapsed"),
    ),
    (MetricKind.CPU, re.compile(r"cpu|throttl|(^|_)load(\d|_|$)|processor")),
    (MetricKind.MEMORY, re.compile(r"mem|heap|rss|working_?set|swap|(^|_)oom")),
    (MetricKind.DISK, re.compile(r"disk|(^|_)fs(_|$)|filesystem|volume|inode|(^|_)io(_|$)|iops|storage|pvc")),
    (MetricKind.NETWORK, re.compile(r"net|receive|transmit|(^|_)(rx|tx)(_|$)|bandwidth|bytes_?(in|out)")),
    (MetricKind.ERRORS, re.compile(r"err|fail|5xx|exception|fault|reject|timeout")),
    (MetricKind.THREADS, re.compile(r"thread|goroutine|worker|queue|backlog|pending|inflight|in_flight")),
    (
        MetricKind.TRAFFIC,
        re.compile(r"request|rate|qps|rps|tps|throughput|count|calls|workload|traffic|hits"),
    ),
)

# Classes where a decrease is not itself a fault signature (usually less work reaching a victim).
_UP_IS_BAD = frozenset(
    {
        MetricKind.CPU,
        MetricKind.MEMORY,
        MetricKind.DISK,
        MetricKind.LATENCY,
        MetricKind.ERRORS,
        MetricKind.RESTARTS,
        MetricKind.PACKETS,
        MetricKind.GC,
        MetricKind.THREADS,
        MetricKind.CONNECTIONS,
    }
)
_COUNTER_NAME = re.compile(r"(_total|_count|_sum|restarts)$")


def classify_metric(name: str) -> MetricKind:
    """The kind of a metric from its name alone (any naming scheme; ``other`` if unsure)."""
    low = name.lower().replace("-", "_").replace(".", "_")
    for kind, pattern in _RULES:
        if pattern.search(low):
            return kind
    return MetricKind.OTHER


class SeriesAnomaly(BaseModel):
    """How one series behaved in the incident period compared with its baseline."""

    model_config = ConfigDict(frozen=True)

    service: str
    name: str
    kind: MetricKind
    instance: str = ""  # pod / instance / other identifying labels
    score: float  # sustained robust z of the incident period (absolute, capped)
    up_score: float = 0.0  # the same, counting increases only
    direction: int  # +1 up, -1 down, 0 flat
    onset: float | None = None
    baseline_value: float
    incident_value: float  # median of the incident period
    peak_value: float  # value at the sustained peak
    ramp: float = 0.0  # monotonic-trend strength in the incident period (0..1)
    missing: float = 0.0  # share of incident points missing while the baseline had data
    counter: bool = False  # scored as per-step increases of a counter
    persists: bool = True  # out of its band from the onset to the end of the incident period, mostly
    baseline: str = "before the onset"  # which fault-free period it was compared with (baseline_label)

    @property
    def bad_direction(self) -> bool:
        return self.direction > 0 or self.kind not in _UP_IS_BAD

    def describe(self) -> str:
        label = f"{self.service}{'/' + self.instance if self.instance else ''} {self.name}"
        arrow = "up" if self.direction > 0 else "down" if self.direction < 0 else "flat"
        txt = (
            f"{label} {arrow}: {_fmt(self.baseline_value)} -> {_fmt(self.incident_value)}"
            f" (peak {_fmt(self.peak_value)}, z={self.score:.1f})"
        )
        if self.ramp >= 0.6:
            txt += " steady ramp"
        if self.missing >= 0.3:
            txt += f", {self.missing:.0%} of points missing"
        return txt


def _fmt(v: float) -> str:
    if v != v:
        return "nan"
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.2f}G"
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


RATIO_FLOOR = 0.01  # one percentage point: the smallest scale a 0..1 ratio is judged on


def robust_center_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and a robust scale (IQR/1.349, MAD, or a floor relative to the level).

    A series whose baseline lies within [0, 1] is taken for a ratio and never gets a scale below
    one percentage point, so that an error ratio rising from 0.1% to 5% is not "infinitely" anomalous.
    """
    med = float(np.median(values))
    q1, q3 = np.percentile(values, [25, 75])
    mad = float(np.median(np.abs(values - med))) * 1.4826
    scale = max(float(q3 - q1) / 1.349, mad)
    floor = max(0.02 * abs(med), 1e-9)
    if float(values.min()) >= 0.0 and float(values.max()) <= 1.0:
        floor = max(floor, RATIO_FLOOR)
    if scale < floor:
        std = float(np.std(values))
        scale = max(floor, min(std, 0.1 * abs(med)) if std > 0 else floor)
    return med, scale


def _as_counter(name: str, vs: np.ndarray) -> bool:
    finite = vs[np.isfinite(vs)]
    if len(finite) < 3 or not _COUNTER_NAME.search(name.lower()):
        return False
    diffs = np.diff(finite)
    return bool(np.mean(diffs >= 0) >= 0.9 and float(finite[-1]) >= float(finite[0]))


def sustained_peak(z: np.ndarray) -> tuple[int, float]:
    """(index, |z|) of the largest deviation the next point also reaches (a lone spike does not count,
    except at the end of the data, where the next point is not known yet)."""
    a = np.abs(z)
    if len(a) == 1:
        return 0, float(a[0])
    pair = np.minimum(a[:-1], a[1:])
    i = int(np.argmax(pair))
    if a[-1] > pair[i] and a[-1] > a[-2]:  # the last point has no successor yet: it may be a start
        return len(a) - 1, float(a[-1])
    return (i + 1 if a[i + 1] > a[i] else i), float(pair[i])


def find_onset(ts: np.ndarray, z: np.ndarray, threshold: float = ONSET_Z, persist: int = 3) -> float | None:
    """First time |z| exceeds ``threshold`` and mostly stays above it for ``persist`` points."""
    above = np.abs(z) >= threshold
    if not above.any():
        return None
    n = len(z)
    for i in (int(k) for k in np.flatnonzero(above)):
        j = min(n, i + persist)
        if np.mean(above[i:j]) >= 0.66 or (j - i < persist and j == n and above[i:j].all()):
            return float(ts[i])
    return None


def _ramp_strength(vs: np.ndarray) -> float:
    """Share of a monotonic trend in the incident values (Spearman-like, via ranks)."""
    if len(vs) < 6:
        return 0.0
    x = np.arange(len(vs), dtype=float)
    ranks = np.argsort(np.argsort(vs)).astype(float)
    c = np.corrcoef(x, ranks)[0, 1]
    return float(max(0.0, c)) if np.isfinite(c) else 0.0


def segment_trend(values: np.ndarray, min_len: int = 12) -> float:
    """Monotonic growth across the series, between resets (a leak's sawtooth counts), 0..1."""
    v = values[np.isfinite(values)]
    if len(v) < 2 * min_len:
        return 0.0
    # a reset is a drop by more than a third (a restart, an OOM kill); garbage-collection dips in a
    # healthy sawtooth are smaller and stay inside a segment
    drops = np.flatnonzero(np.diff(v) < -0.35 * np.abs(v[:-1]))
    bounds = [0, *(int(d) + 1 for d in drops), len(v)]
    num = den = 0.0
    for a, b in itertools.pairwise(bounds):
        if b - a >= min_len:
            seg = v[a:b]
            head, tail = float(np.median(seg[:3])), float(np.median(seg[-3:]))
            grows = tail - head >= 0.15 * max(abs(head), 1e-9)
            num += (_ramp_strength(seg) if grows else 0.0) * (b - a)
            den += b - a
    return num / den if den else 0.0


def score_series(
    service: str,
    name: str,
    labels: Mapping[str, str],
    timestamps: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    periods: Periods,
    min_points: int = 3,
) -> SeriesAnomaly | None:
    """Score one series; None when it lacks baseline or incident data."""
    ts = np.asarray(timestamps, dtype=float)
    vs = np.asarray(values, dtype=float)
    if len(ts) < 2 * min_points:
        return None
    counter = _as_counter(name, vs)
    if counter:
        ok = np.isfinite(vs)
        ts, vs = ts[ok], vs[ok]
        inc = np.diff(vs)
        inc[inc < 0] = vs[1:][inc < 0]  # counter reset: the new value is the increase
        ts, vs = ts[1:], inc
    base_mask = (ts >= periods.baseline_start) & (ts < periods.baseline_end)
    inc_mask = (ts >= periods.incident_start) & (ts <= periods.incident_end)
    base_mask, used = widen_baseline(ts, vs, base_mask, inc_mask, periods, min_points)
    base = vs[base_mask]
    base = base[np.isfinite(base)]
    inc_ts, inc_vs = ts[inc_mask], vs[inc_mask]
    if len(base) < min_points or len(inc_vs) == 0:
        return None
    ok = np.isfinite(inc_vs)
    missing = 1.0 - float(np.mean(ok))
    inc_ts, inc_vs = inc_ts[ok], inc_vs[ok]
    med, scale = robust_center_scale(base)
    if len(inc_vs) == 0:
        return SeriesAnomaly(
            service=service,
            name=name,
            kind=classify_metric(name),
            instance=_instance(labels),
            score=0.0,
            direction=0,
            baseline_value=med,
            incident_value=float("nan"),
            peak_value=float("nan"),
            missing=missing,
            counter=counter,
            baseline=used,
        )
    z = np.clip((inc_vs - med) / scale, -Z_CAP, Z_CAP)
    peak, score = sustained_peak(z)
    _, up_score = sustained_peak(np.maximum(z, 0.0))
    if counter:  # one increment of a counter (a restart) is an event, not noise
        peak = int(np.argmax(np.abs(z)))
        score = float(abs(z[peak]))
        up_score = max(0.0, float(z.max()))
    elif classify_metric(name) not in (MetricKind.MEMORY, MetricKind.DISK):  # levels a sawtooth revisits
        score, up_score = _within_baseline_range((inc_vs - med) / scale, score, up_score, (base - med) / scale)
    inc_med = float(np.median(inc_vs))
    direction = int(np.sign(z[peak])) if score >= 1.0 else 0
    onset = find_onset(inc_ts, z) if score >= ONSET_Z else None
    persists = onset is None or _persists(inc_ts, z, onset, periods.detected)
    ramp = _ramp_strength(inc_vs) if direction > 0 else 0.0
    kind = classify_metric(name)
    if kind in (MetricKind.MEMORY, MetricKind.DISK) and not counter:
        ramp = max(ramp, segment_trend(vs))
    return SeriesAnomaly(
        service=service,
        name=name,
        kind=kind,
        instance=_instance(labels),
        score=round(score, 3),
        up_score=round(up_score, 3),
        direction=direction,
        onset=onset,
        baseline_value=med,
        incident_value=inc_med,
        peak_value=float(inc_vs[peak]),
        ramp=round(ramp, 3),
        missing=round(missing, 3),
        counter=counter,
        persists=persists,
        baseline=used,
    )


IN_RANGE_CAP = 2.0  # score of a deviation the fault-free period itself reached: below ONSET_Z, "normal"


def _within_baseline_range(raw_z: np.ndarray, score: float, up_score: float, base_z: np.ndarray) -> tuple[float, float]:
    """A sustained deviation no larger than one the baseline itself showed is not an anomaly (a range
    test: sporadic series such as a tail latency over a handful of calls, which sat at a timeout in
    the fault-free period too, have a tiny robust scale and would otherwise look infinitely anomalous).
    ``raw_z`` is not capped, so that 3x the baseline's worst still counts. Only applies when the
    baseline holds enough points to have shown its range (>= 10)."""
    if len(base_z) < 10:
        return score, up_score
    hi, lo = float(base_z.max()), float(base_z.min())
    peak, raw = sustained_peak(raw_z)
    if score > IN_RANGE_CAP and ((raw_z[peak] > 0 and raw <= hi) or (raw_z[peak] < 0 and -raw >= lo)):
        score = IN_RANGE_CAP
    if up_score > IN_RANGE_CAP and sustained_peak(np.maximum(raw_z, 0.0))[1] <= hi:
        up_score = IN_RANGE_CAP
    return score, up_score


# share of points out of band between onset and detection for an onset to date the incident: one in
# three still admits intermittent faults (crash loops, flapping); chosen as the round figure between a
# lone episode (one burst) and a steady fault, not fitted
PERSIST_SHARE = 1.0 / 3.0


def _persists(ts: np.ndarray, z: np.ndarray, onset: float, detected: float | None, threshold: float = ONSET_Z) -> bool:
    """The series stays out of its band from ``onset`` until detection for a share of the points
    (:data:`PERSIST_SHARE`): a fault lasts until it is detected, a passing episode (a burst of timeouts
    that recovered well before the alert) does not. What happens after detection does not count."""
    end = max(detected, onset) if detected is not None else float(ts[-1])
    after = np.abs(z[(ts >= onset) & (ts <= end)]) >= threshold
    return bool(len(after) and np.mean(after) >= PERSIST_SHARE)


def widen_baseline(
    ts: np.ndarray, vs: np.ndarray, base_mask: np.ndarray, inc_mask: np.ndarray, periods: Periods, min_points: int
) -> tuple[np.ndarray, str]:
    """The baseline samples of one series: the given baseline, joined by the fault-free time before the
    onset when the given one is sparser than the incident period (:func:`~.periods.needs_pre`; a
    one-minute baseline of one-minute metrics is one point)."""
    n_base = int(np.isfinite(vs[base_mask]).sum())
    if not needs_pre(periods, n_base, int(inc_mask.sum()), min_points):
        return base_mask, baseline_label(periods, False)
    pre = (ts >= float(periods.pre_start or 0.0)) & (ts < float(periods.pre_end or 0.0))
    return base_mask | pre, baseline_label(periods, True)


_IDENTITY_LABELS = ("pod", "instance", "pod_name", "container", "node", "host", "kubernetes_pod_name")


def _instance(labels: Mapping[str, str]) -> str:
    for key in _IDENTITY_LABELS:
        if labels.get(key):
            return str(labels[key])
    return ""


def series_onsets(anomalies: Iterable[SeriesAnomaly], min_score: float = 8.0) -> list[float]:
    """Onsets of the strong, sustained anomalies (input to :func:`~.periods.combine_onsets`)."""
    return [
        a.onset for a in anomalies if a.onset is not None and a.score >= min_score and a.bad_direction and a.persists
    ]


RATIO_SLACK = 0.05  # sampling jitter of a ratio against its limit (not fitted: 5% of the limit)
SATURATED = 0.9  # share of a 0..1 ratio (of a limit) from which a resource counts as at its ceiling


def saturation(a: SeriesAnomaly) -> float:
    """How far a resource ratio (CPU, memory or connections against a limit; values in 0..1) went from
    its baseline to its ceiling: a pool at 10/10 matters more than CPU going 0.30 -> 0.35. 0 unless the
    sustained peak reaches :data:`SATURATED` from a baseline below it."""
    if a.kind not in (MetricKind.CPU, MetricKind.MEMORY, MetricKind.CONNECTIONS) or a.direction <= 0:
        return 0.0
    # a usage rate sampled over a window may read slightly above its limit (1.00023 of a CPU quota):
    # up to RATIO_SLACK above 1 is still a 0..1 ratio at its ceiling, not a count
    if not (0.0 <= a.baseline_value < SATURATED <= a.peak_value <= 1.0 + RATIO_SLACK):
        return 0.0
    return min(1.0, (min(a.peak_value, 1.0) - a.baseline_value) / (1.0 - a.baseline_value))


class ServiceMetricProfile(BaseModel):
    """The anomalies of one service, strongest per metric kind."""

    service: str
    by_kind: dict[MetricKind, SeriesAnomaly]
    score: float  # strongest anomaly in a "bad" direction
    onset: float | None  # earliest onset among its strong anomalies
    up: dict[MetricKind, float] = {}  # strongest increase per kind (a leak before an OOM kill counts)
    ramps: dict[MetricKind, float] = {}  # strongest steady growth per kind
    saturation: float = 0.0  # strongest :func:`saturation` of its series

    def top(self, n: int = 3) -> list[SeriesAnomaly]:
        return sorted(self.by_kind.values(), key=lambda a: -a.score)[:n]

    def kind_score(self, kind: MetricKind, up_only: bool = True) -> float:
        a = self.by_kind.get(kind)
        if a is None or (up_only and a.direction <= 0):
            return 0.0
        return a.score


def effective_score(a: SeriesAnomaly) -> float:
    """A series' contribution to its service's anomaly: decreases of load-driven kinds count half."""
    return a.score if a.bad_direction else 0.5 * a.score


def service_profiles(
    anomalies: Iterable[SeriesAnomaly], min_onset_score: float = 6.0
) -> dict[str, ServiceMetricProfile]:
    best: dict[str, dict[MetricKind, SeriesAnomaly]] = {}
    onsets: dict[str, list[float]] = {}
    ups: dict[str, dict[MetricKind, float]] = {}
    ramps: dict[str, dict[MetricKind, float]] = {}
    sat: dict[str, float] = {}
    for a in anomalies:
        sat[a.service] = max(sat.get(a.service, 0.0), saturation(a))
        up = ups.setdefault(a.service, {})
        up[a.kind] = max(up.get(a.kind, 0.0), a.up_score)
        if a.ramp > 0:
            rp = ramps.setdefault(a.service, {})
            rp[a.kind] = max(rp.get(a.kind, 0.0), a.ramp)
        kinds = best.setdefault(a.service, {})
        cur = kinds.get(a.kind)
        if cur is None or effective_score(a) > effective_score(cur):
            kinds[a.kind] = a
        if a.onset is not None and a.score >= min_onset_score and a.bad_direction:
            onsets.setdefault(a.service, []).append(a.onset)
    out: dict[str, ServiceMetricProfile] = {}
    for svc, kinds in best.items():
        score = max((effective_score(a) for a in kinds.values()), default=0.0)
        ons = onsets.get(svc)
        out[svc] = ServiceMetricProfile(
            service=svc,
            by_kind=kinds,
            score=score,
            onset=min(ons) if ons else None,
            up=ups.get(svc, {}),
            ramps=ramps.get(svc, {}),
            saturation=sat.get(svc, 0.0),
        )
    return out


def strength(z: float) -> float:
    """Map a robust z to (0, 1): 3 -> 0.26, 10 -> 0.63, 30 -> 0.95."""
    return float(1.0 - np.exp(-max(z, 0.0) / 10.0))
