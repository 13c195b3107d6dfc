"""Capacity exhaustion and degrading dependencies: trends over days (pure).

Capacity: for every (usage, limit) metric pair of ops-history.md, the **daily maximum** of the usage
(a resource runs out at its peak, and the daily maximum removes the daily cycle) over the last
:data:`WINDOW_DAYS` days gets a seasonal Kendall slope with its 95% band (see :mod:`trend`). A
finding needs a significant upward trend (lower band > 0) whose fitted line reaches the limit within
the horizon (default 14 days, like kubernetes-mixin's ``predict_linear`` disk alerts, which look
4 days ahead for pages and let tickets see further). A flat but high disk has no trend, so no
finding; a one-day spike is one daily point out of many and barely moves a median of slopes.

Degrading dependencies: the **daily median** of each caller->peer ``client_latency_p99_seconds``
and ``client_error_ratio`` over the whole period, same slope estimator. A finding needs a
significant, sustained upward trend, over the whole period or over its last
:data:`RECENT_DAYS` days (a dependency that started degrading two weeks ago), and a change a human
would call degradation: latency up by at least
:data:`LATENCY_RISE` (50%) across the window, or the error ratio up by at least one percentage
point and at least doubled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from day2ai.models import Remediation
from day2ai.scan.common import fmt_bytes, label_text, resource_key
from day2ai.scan.models import Finding, FindingEvidence, Severity
from day2ai.scan.trend import (
    DAY,
    SUSTAINED_SHARE,
    Trend,
    daily,
    days_until,
    seasonal_sen,
    step_fits_better,
    sustained,
)
from day2ai.sources.history import Series, Site
from day2ai.timeutil import iso

RECENT_DAYS = 21
WINDOW_DAYS = 28  # the "current trend": four whole weeks, so weekday seasons have 4 points each
HORIZON_DAYS = 14.0
LATENCY_RISE = 0.5
ERROR_RISE_ABS = 0.01

# usage metric -> (limit metric names, first that exists wins; resource word)
PAIRS: dict[str, tuple[tuple[str, ...], str]] = {
    "disk_used_bytes": (("disk_capacity_bytes", "disk_size_bytes", "disk_total_bytes"), "disk"),
    "connections_in_use": (("connections_max", "connections_limit"), "connections"),
    "quota_used": (("quota_limit",), "quota"),
    "memory_working_set_bytes": (("memory_limit_bytes",), "memory"),
    "queue_depth": (("queue_capacity", "queue_max", "queue_limit"), "queue"),
}


@dataclass(frozen=True)
class Forecast:
    service: str
    resource: str
    labels: str
    limit: float
    trend: Trend
    origin: float
    days: list[float]
    values: list[float]
    eta_days: float | None
    eta_low: float | None  # earliest (slope at the upper band)
    eta_high: float | None  # latest (slope at the lower band); None = may never fill

    def chart(self) -> dict[str, Any]:
        return {"service": self.service, "resource": self.resource, "labels": self.labels, "limit": self.limit,
                "origin": self.origin, "days": self.days, "values": self.values, "slope": self.trend.slope,
                "low": self.trend.low, "high": self.trend.high, "level": self.trend.level, "at": self.trend.at,
                "eta_days": self.eta_days}


def _group(series: list[Series]) -> dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Series]]:
    out: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Series]] = defaultdict(list)
    for s in series:
        out[(s.name, s.service, resource_key(s))].append(s)
    return out


def _concat(group: list[Series]) -> tuple[np.ndarray, np.ndarray]:
    if len(group) == 1:
        return group[0].t, group[0].v
    return np.concatenate([s.t for s in group]), np.concatenate([s.v for s in group])


def _limit(groups: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Series]], name: str, service: str,
           key: tuple[tuple[str, str], ...], site: Site) -> float | None:
    """The latest limit for a usage series: same labels, else the service's only limit series,
    else (memory) the limit declared in site.yaml."""
    cands = groups.get((name, service, key))
    if cands is None:
        same = [g for (n, svc, _), g in groups.items() if n == name and svc == service]
        cands = same[0] if len(same) == 1 else None
    if cands:
        last = [float(s.v[np.isfinite(s.v)][-1]) for s in cands if np.isfinite(s.v).any()]
        return min(last) if last else None
    if name == "memory_limit_bytes":
        spec = next((x for x in site.services if x.name == service), None)
        if spec is not None and spec.resources is not None:
            return spec.resources.memory_limit_bytes
    return None


def forecasts(series: list[Series], site: Site, horizon_days: float = HORIZON_DAYS) -> list[Forecast]:
    """Every usage/limit pair whose trend reaches its limit within the horizon."""
    groups = _group(series)
    origin, end = site.period.start, site.period.end
    window_start = max(origin, end - WINDOW_DAYS * DAY)
    out: list[Forecast] = []
    for (name, service, key), group in groups.items():
        if name not in PAIRS:
            continue
        limit_names, resource = PAIRS[name]
        limit = next((lim for n in limit_names if (lim := _limit(groups, n, service, key, site)) is not None), None)
        if limit is None or limit <= 0:
            continue
        t, v = _concat(group)
        keep = (t >= window_start) & (t < end)
        x, y = daily(t[keep], v[keep], origin, "max")
        trend = _rising(x, y)
        if trend is None:
            continue
        eta = days_until(trend, limit)
        if eta is None or eta > horizon_days:
            continue
        out.append(Forecast(service=service, resource=resource, labels=label_text(key), limit=limit, trend=trend,
                            origin=origin, days=x.tolist(), values=y.tolist(), eta_days=eta,
                            eta_low=days_until(trend, limit, trend.high),
                            eta_high=days_until(trend, limit, trend.low)))
    return out


def _amount(resource: str, value: float) -> str:
    return fmt_bytes(value) if resource in ("disk", "memory") else f"{value:.3g}"


def capacity_findings(fcs: list[Forecast]) -> list[Finding]:
    best: dict[tuple[str, str], Forecast] = {}
    for fc in fcs:  # one finding per service and resource: the one that runs out first
        k = (fc.service, fc.resource)
        if k not in best or (fc.eta_days or 0) < (best[k].eta_days or 0):
            best[k] = fc
    out = []
    for fc in best.values():
        eta = fc.eta_days or 0.0
        end_of_data = fc.origin + (fc.trend.at + 1) * DAY
        severity: Severity = "high" if eta <= 3 else "medium" if eta <= 7 else "low"
        band = f"{fc.eta_low:.1f}-{fc.eta_high:.1f} days" if fc.eta_high is not None else \
            f"{fc.eta_low:.1f} days or never"
        what = f"{fc.resource}" + (f" ({fc.labels})" if fc.labels else "")
        t = fc.trend
        out.append(Finding(
            kind="capacity_exhaustion", service=fc.service, severity=severity,
            summary=f"{what} full in about {eta:.1f} days (95% band {band}) at the {t.days}-day trend",
            evidence=[FindingEvidence(source="metrics", summary=(
                f"daily peak grows {_amount(fc.resource, t.slope)}/day (95% band {_amount(fc.resource, t.low)}"
                f" to {_amount(fc.resource, t.high)}) over {t.days} days"
                f"{' (weekday-seasonal)' if t.seasonal else ''}; now {100 * t.level / fc.limit:.0f}% of "
                f"{_amount(fc.resource, fc.limit)}"))],
            recommendation=f"Raise the {fc.resource} limit of {fc.service} or reduce its growth before "
                           f"{iso(end_of_data + eta * DAY)}.",
            resource=fc.resource, eta=iso(end_of_data + eta * DAY),
            remediation=Remediation(action=f"increase {fc.resource} capacity of {fc.service}",
                                    rationale="trend reaches the limit within the horizon", risk="medium"),
            score=1.0 / (1.0 + eta)))
    return out


def degrading_dependencies(series: list[Series], site: Site) -> list[Finding]:
    origin, end = site.period.start, site.period.end
    found: dict[tuple[str, str], Finding] = {}
    for s in series:
        if s.name not in ("client_latency_p99_seconds", "client_error_ratio") or "peer" not in s.labels:
            continue
        keep = (s.t >= origin) & (s.t < end)
        x, y = daily(s.t[keep], s.v[keep], origin, "median")
        hit = next((r for r in (_degradation(s.name, x, y), _degradation(s.name, x[-RECENT_DAYS:], y[-RECENT_DAYS:]))
                    if r is not None), None)
        if hit is None:
            continue
        trend, rise, before, after = hit
        if s.name == "client_latency_p99_seconds":
            text = f"p99 latency to {s.labels['peer']} rose {before * 1000:.0f} -> {after * 1000:.0f} ms"
        else:
            text = f"error ratio of calls to {s.labels['peer']} rose {before:.2%} -> {after:.2%}"
        peer = s.labels["peer"]
        k = (s.service, peer)
        ev = FindingEvidence(source="metrics", summary=(
            f"{text} over {trend.days} days (daily median, slope 95% band {trend.low:.3g} to {trend.high:.3g}/day)"))
        if k in found:
            found[k].evidence.append(ev)
            continue
        found[k] = Finding(
            kind="degrading_dependency", service=s.service, severity="high" if rise >= 1.0 else "medium",
            summary=f"calls from {s.service} to {peer} degrade steadily: {text}", evidence=[ev],
            recommendation=f"Investigate {peer} before it becomes an incident (saturation, slow queries, "
                           f"growing data); check its recent changes and capacity.",
            peer=peer, score=min(rise, 10.0))
    return list(found.values())


def _degradation(name: str, x: np.ndarray, y: np.ndarray) -> tuple[Trend, float, float, float] | None:
    """(trend, relative rise, fitted start, fitted end) when ``y`` degrades enough, else None."""
    trend = _rising(x, y)
    if trend is None:
        return None
    before, after = max(trend.start_level, 0.0), trend.level
    rise = (after - before) / before if before > 0 else float("inf")
    if name == "client_latency_p99_seconds":
        return (trend, rise, before, after) if rise >= LATENCY_RISE else None
    return (trend, rise, before, after) if after - before >= ERROR_RISE_ABS and after >= 2 * before else None


def _rising(x: np.ndarray, y: np.ndarray) -> Trend | None:
    """The trend of daily values when it is a real, sustained rise (not noise, a cycle or one step)."""
    trend = seasonal_sen(x, y)
    if trend is None or not trend.significant_up or sustained(x, y) < SUSTAINED_SHARE:
        return None
    return None if step_fits_better(x, y, trend) else trend
