"""Run every finding family and the scorecard over one ops history (pure over an OpsHistory)."""

from __future__ import annotations

import time
from pathlib import Path

from day2ai.scan.capacity import HORIZON_DAYS, capacity_findings, degrading_dependencies, forecasts
from day2ai.scan.coverage import observability_gaps, stale_runbooks
from day2ai.scan.drift import drift_findings
from day2ai.scan.health import health, weekly
from day2ai.scan.models import Finding, ScanGap, ScanReport, rank_findings
from day2ai.scan.ops import automation_candidates, noisy_alerts, postmortem_followups
from day2ai.scan.rightsizing import rightsizing_findings
from day2ai.sources.history import OpsHistory, load_history
from day2ai.timeutil import iso


def analyse(h: OpsHistory, horizon_days: float = HORIZON_DAYS) -> ScanReport:
    """Findings (best first), the health scorecard and the gaps of one loaded history."""
    t0 = time.perf_counter()
    site = h.site
    start, end = site.period.start, site.period.end
    fcs = forecasts(h.metrics, site, horizon_days)
    findings: list[Finding] = []
    findings += capacity_findings(fcs)
    findings += degrading_dependencies(h.metrics, site)
    findings += rightsizing_findings(h.metrics, site)
    if h.desired is not None and h.live is not None:
        findings += drift_findings(h.desired, h.live, site)
    findings += observability_gaps(h)
    findings += noisy_alerts(h.alerts, start, end)
    findings += automation_candidates([i for i in h.incidents if start <= i.opened_at < end])
    findings += postmortem_followups(h.incidents, end)
    findings += stale_runbooks(h)
    scorecard, health_gaps = health(h)
    gaps = [ScanGap(source=s, reason=r) for s, r in dict.fromkeys([*h.gaps, *health_gaps])]
    return ScanReport(
        site=site.name, period={"start": iso(start), "end": iso(end)}, findings=rank_findings(findings),
        health=scorecard, gaps=gaps, usage={"seconds": round(time.perf_counter() - t0, 3)},
        weekly=weekly(h), forecasts=[fc.chart() for fc in fcs])


def scan_path(path: str | Path, horizon_days: float = HORIZON_DAYS) -> ScanReport:
    """Load and scan one history directory; ``usage.seconds`` includes the loading."""
    t0 = time.perf_counter()
    report = analyse(load_history(path), horizon_days)
    report.usage["seconds"] = round(time.perf_counter() - t0, 3)
    return report
