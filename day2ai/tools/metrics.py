"""Metric tools: which series left their baseline in the incident period, and one series' shape."""

from __future__ import annotations

import numpy as np

from day2ai.analysis.metrics import MetricKind, effective_score
from day2ai.errors import InputError
from day2ai.timeutil import to_datetime
from day2ai.tools import evidence
from day2ai.tools import signals as sig
from day2ai.tools.base import Investigation, tool


def _kind(kind: str) -> MetricKind | None:
    if not kind:
        return None
    try:
        return MetricKind(kind.lower())
    except ValueError:
        allowed = ", ".join(k.value for k in MetricKind)
        raise InputError(f"unknown metric kind {kind!r} (one of {allowed})") from None


def _hhmm(t: float | None) -> str:
    return to_datetime(t).strftime("%H:%M:%S") if t is not None else "?"


@tool
async def metric_anomalies(inv: Investigation, service: str = "", kind: str = "", limit: int = 10) -> str:
    """Metric series that deviate most from their baseline during the incident (robust z-scores).

    Returns one line per series: evidence id, service/pod, metric, baseline -> incident value, z, onset.

    Args:
        service: only this service ('' for all).
        kind: one of cpu, memory, disk, network, packets, latency, errors, traffic, restarts,
            connections, threads, gc, other ('' for all).
        limit: at most this many series.
    """
    want = _kind(kind)
    anomalies = await sig.metric_anomalies(inv)
    p = await sig.periods(inv)
    rows = [a for a in anomalies if (not service or a.service == service) and (want is None or a.kind is want)]
    if service and not any(a.service == service for a in anomalies):
        return f"No metrics for service {service!r}."
    rows.sort(key=lambda a: -effective_score(a))
    lines = [f"Onset estimate {_hhmm(p.onset)}; baseline {_hhmm(p.baseline_start)}-{_hhmm(p.baseline_end)}."]
    seen: set[tuple[str, str]] = set()
    for a in rows:
        if len(lines) > max(1, limit) or a.score < 3.0:
            break
        key = (a.service, a.kind.value)
        ref = await evidence.cite(inv, f"metric:{a.service}:{a.kind.value}") if key not in seen else ""
        seen.add(key)
        ident = ref.split("]")[0] + "]" if ref else "    "
        lines.append(f"{ident} {a.describe()} onset {_hhmm(a.onset)} ({a.kind.value})")
    if len(lines) == 1:
        lines.append("No metric series deviates clearly from its baseline.")
    return "\n".join(lines)


@tool
async def metric_series(inv: Investigation, service: str, metric: str, points: int = 12) -> str:
    """The values of one metric of one service over the window (downsampled), per pod/instance.

    Args:
        service: the service name.
        metric: the metric name (as listed by metric_anomalies).
        points: how many evenly spaced values to show.
    """
    raw = [r for r in await sig.raw_metrics(inv) if r[0] == service and r[1] == metric]
    if not raw:
        return f"No series {metric!r} for service {service!r}."
    p = await sig.periods(inv)
    out = [f"{metric} of {service} (onset estimate {_hhmm(p.onset)}):"]
    for _svc, _name, labels, ts, vs in raw[:5]:
        idx = np.linspace(0, len(ts) - 1, num=min(max(points, 2), len(ts))).astype(int)
        inst = labels.get("pod") or labels.get("instance") or ""
        vals = ", ".join(f"{_hhmm(float(ts[i]))}={float(vs[i]):.4g}" for i in idx)
        out.append(f"  {inst or '-'}: {vals}")
    return "\n".join(out)
