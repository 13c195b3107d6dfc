"""The operational health scorecard exactly as ops-history.md defines it (pure).

Events belong to a span when they start in it (incidents by ``opened_at``, alerts by ``fired_at``,
deploys by their time), half-open ``[start, end)``. Production deploys are changes of kind
``deploy`` whose ``environment`` is ``production`` (the default). Change failure rate counts the
production deploys of the span whose ``id`` an incident names as its ``change_id``. Night pages are
pages fired inside ``oncall.night`` in ``oncall.timezone``. A figure that cannot be computed is
None, and the reason goes to the gaps.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from day2ai.errors import ConfigError
from day2ai.scan.models import Health, HealthFigures
from day2ai.sources.history import AlertRecord, ChangeRecord, IncidentRecord, OpsHistory
from day2ai.timeutil import iso

DAY = 86400.0
TREND_MIN_CHANGE = 0.10  # a half-on-half change under 10% is "steady"


def _median(xs: list[float]) -> float | None:
    return float(statistics.median(xs)) if xs else None


def _mean(xs: list[float]) -> float | None:
    return float(statistics.fmean(xs)) if xs else None


def _night_test(h: OpsHistory) -> Callable[[float], bool]:
    try:
        tz = ZoneInfo(h.site.oncall.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"site.yaml: oncall.timezone: unknown time zone {h.site.oncall.timezone!r}") from None
    try:
        a, b = (int(p.split(":")[0]) * 60 + int(p.split(":")[1]) for p in h.site.oncall.night.split("-"))
    except (ValueError, IndexError):
        raise ConfigError(f"site.yaml: oncall.night: expected HH:MM-HH:MM, got {h.site.oncall.night!r}") from None

    def is_night(t: float) -> bool:
        local = datetime.fromtimestamp(t, tz)
        m = local.hour * 60 + local.minute
        return (a <= m < b) if a <= b else (m >= a or m < b)

    return is_night


def _deploys(changes: list[ChangeRecord]) -> list[ChangeRecord]:
    return [c for c in changes if c.kind == "deploy" and c.environment == "production"]


def figures(h: OpsHistory, start: float, end: float, gaps: list[tuple[str, str]] | None = None) -> HealthFigures:
    """The scorecard over ``[start, end)``; reasons for None figures are appended to ``gaps``."""
    note: Callable[[str, str], None] = (lambda s, r: gaps.append((s, r))) if gaps is not None else (lambda s, r: None)
    f = HealthFigures(start=iso(start), end=iso(end))
    days = (end - start) / DAY
    has = h.present
    incs: list[IncidentRecord] = [i for i in h.incidents if start <= i.opened_at < end]
    if "incidents" in has:
        f.incidents = len(incs)
        f.incidents_by_severity = {s: sum(1 for i in incs if i.severity == s) for s in ("sev1", "sev2", "sev3", "sev4")}
        ack = [(i.acknowledged_at - i.opened_at) / 60 for i in incs if i.acknowledged_at is not None]
        res = [(i.resolved_at - i.opened_at) / 60 for i in incs if i.resolved_at is not None]
        f.mtta_minutes_median, f.mtta_minutes_mean = _median(ack), _mean(ack)
        f.mttr_minutes_median, f.mttr_minutes_mean = _median(res), _mean(res)
        if not ack:
            note("incidents", "MTTA: no acknowledged incident in the period")
        if not res:
            note("incidents", "MTTR: no resolved incident in the period")
    if "changes" in has:
        deploys = [c for c in _deploys(h.changes) if start <= c.timestamp < end]
        f.deploys_per_day = len(deploys) / days
        leads = [(c.timestamp - c.first_commit_at) / 3600 for c in deploys if c.first_commit_at is not None]
        f.lead_time_hours_median = _median(leads)
        if not leads:
            note("changes", "lead time: no production deploy has first_commit_at")
        if "incidents" in has and deploys:
            caused = {i.change_id for i in h.incidents if i.change_id}
            f.change_failure_rate = sum(1 for c in deploys if c.id is not None and c.id in caused) / len(deploys)
        elif not deploys:
            note("changes", "change failure rate: no production deploy in the period")
        recov = [(i.resolved_at - i.opened_at) / 3600 for i in incs if i.change_id and i.resolved_at is not None]
        f.failed_deployment_recovery_hours_median = _median(recov)
        if not recov:
            note("incidents", "failed deployment recovery: no resolved incident names a change_id")
    else:
        note("changes", "DORA figures: no changes.jsonl")
    if "alerts" in has:
        alerts: list[AlertRecord] = [a for a in h.alerts if start <= a.fired_at < end]
        is_night = _night_test(h)
        f.alerts_per_week = len(alerts) / (days / 7)
        f.pages = sum(1 for a in alerts if a.severity == "page")
        f.night_pages = sum(1 for a in alerts if a.severity == "page" and is_night(a.fired_at))
        f.unactioned_alert_ratio = (sum(1 for a in alerts if not a.acknowledged and not a.incident_id) / len(alerts)
                                    if alerts else None)
        if not alerts:
            note("alerts", "unactioned alert ratio: no alert fired in the period")
    else:
        note("alerts", "alert figures: no alerts.jsonl")
    if "incidents" not in has:
        note("incidents", "incident, MTTA and MTTR figures: no incidents.jsonl")
    return f


_TRENDS: tuple[tuple[str, str, str, int], ...] = (
    # figure, label, unit, +1 when rising is bad
    ("mttr_minutes_median", "MTTR", "min", 1), ("mtta_minutes_median", "MTTA", "min", 1),
    ("incidents", "Incidents", "", 1), ("change_failure_rate", "Change failure rate", "", 1),
    ("deploys_per_day", "Deploys per day", "", -1), ("lead_time_hours_median", "Lead time", "h", 1),
    ("alerts_per_week", "Alerts per week", "", 1), ("night_pages", "Night pages", "", 1),
    ("unactioned_alert_ratio", "Unactioned alert share", "", 1),
)


def _fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 10 else f"{x:.2g}"


def trends(first: HealthFigures, second: HealthFigures) -> list[str]:
    """Named half-on-half trends, e.g. ``MTTR rising: 48 -> 95 min (worse)``."""
    out = []
    for key, label, unit, bad in _TRENDS:
        a, b = getattr(first, key), getattr(second, key)
        if a is None or b is None or a == b:
            continue
        change = (b - a) / abs(a) if a else float("inf")
        if abs(change) < TREND_MIN_CHANGE:
            continue
        word = "rising" if b > a else "falling"
        verdict = "worse" if (b > a) == (bad > 0) else "better"
        out.append(f"{label} {word}: {_fmt(a)} -> {_fmt(b)}{(' ' + unit) if unit else ''} ({verdict})")
    return out


def health(h: OpsHistory) -> tuple[Health, list[tuple[str, str]]]:
    start, end = h.site.period.start, h.site.period.end
    gaps: list[tuple[str, str]] = []
    whole = figures(h, start, end, gaps)
    mid = start + (end - start) / 2
    halves = [figures(h, start, mid), figures(h, mid, end)]
    out = Health(**whole.model_dump(), halves=halves, trends=trends(*halves))
    return out, list(dict.fromkeys(gaps))


def weekly(h: OpsHistory) -> list[dict[str, float | str | None]]:
    """Per-week incidents, median MTTR and alert count (chart data for the review)."""
    start, end = h.site.period.start, h.site.period.end
    out: list[dict[str, float | str | None]] = []
    t = start
    while t < end:
        u = min(t + 7 * DAY, end)
        res = [(i.resolved_at - i.opened_at) / 60 for i in h.incidents
               if t <= i.opened_at < u and i.resolved_at is not None]
        out.append({"week": iso(t)[:10], "incidents": float(sum(1 for i in h.incidents if t <= i.opened_at < u)),
                    "mttr_minutes_median": _median(res),
                    "alerts": float(sum(1 for a in h.alerts if t <= a.fired_at < u))})
        t = u
    return out
