"""The monthly operational review of a :class:`~day2ai.scan.models.ScanReport`: plain text, Markdown
and a self-contained HTML page with inline SVG charts (weekly MTTR, weekly alert volume, capacity
forecasts with their 95% band). No scripts, no external assets; every string from the history is
escaped (service names, runbook text and alert names are untrusted data)."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from day2ai.scan.models import Finding, HealthFigures, ScanReport

# chart colours (the screenshot test looks for them)
MTTR_COLOUR = "#d62728"
ALERT_COLOUR = "#1f77b4"
BAND_COLOUR = "#ff7f0e"
POINT_COLOUR = "#2ca02c"

_FIGURES: tuple[tuple[str, str], ...] = (
    ("incidents", "Incidents"), ("mtta_minutes_median", "MTTA median (min)"),
    ("mttr_minutes_median", "MTTR median (min)"), ("mttr_minutes_mean", "MTTR mean (min)"),
    ("deploys_per_day", "Deploys per day"), ("lead_time_hours_median", "Lead time median (h)"),
    ("change_failure_rate", "Change failure rate"),
    ("failed_deployment_recovery_hours_median", "Failed deploy recovery median (h)"),
    ("alerts_per_week", "Alerts per week"), ("pages", "Pages"), ("night_pages", "Night pages"),
    ("unactioned_alert_ratio", "Unactioned alert share"),
)
_TITLES = {
    "capacity_exhaustion": "Capacity", "degrading_dependency": "Degrading dependencies",
    "overprovisioned": "Over-provisioned", "idle_resource": "Idle workloads", "config_drift": "Configuration drift",
    "observability_gap": "Observability gaps", "noisy_alert": "Alert noise",
    "automation_candidate": "Automation candidates", "stale_runbook": "Runbook accuracy",
    "postmortem_followup": "Postmortem follow-ups",
}


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _figure(h: HealthFigures, key: str) -> str:
    value = getattr(h, key)
    if key.endswith("ratio") or key.endswith("rate"):
        return "n/a" if value is None else f"{value:.1%}"
    return _num(value)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _savings(report: ScanReport) -> float:
    return sum(f.monthly_savings or 0.0 for f in report.findings)


def review_text(report: ScanReport) -> str:
    lines = [f"{report.site}: Day-2 scan {report.period['start']} -> {report.period['end']}", ""]
    for f in report.findings:
        lines.append(f"[{f.severity:>6}] {f.id} {f.kind} {f.service}: {f.summary}")
    if not report.findings:
        lines.append("no findings")
    lines += ["", "health:"]
    lines += [f"  {label}: {_figure(report.health, key)}" for key, label in _FIGURES]
    lines += [f"  trend: {t}" for t in report.health.trends]
    lines += [f"gap: {g.source}: {g.reason}" for g in report.gaps]
    return "\n".join(lines) + "\n"


def review_markdown(report: ScanReport) -> str:
    """The review as Markdown: summary, scorecard with its halves and trends, findings by family."""
    h = report.health
    counts = Counter(f.severity for f in report.findings)
    out = [f"# Operational review: {_md(report.site)}", "",
           f"Period {report.period['start']} to {report.period['end']}. "
           f"{len(report.findings)} findings ({counts['high']} high, {counts['medium']} medium, {counts['low']} low)"
           f"; possible savings about ${_savings(report):,.0f}/month.", "",
           "Findings are suggestions: any change (resize, delete, reconcile) goes through approval.", "",
           "## Health", "", "| figure | period | first half | second half |", "| --- | --- | --- | --- |"]
    halves = h.halves if len(h.halves) == 2 else [h, h]
    for key, label in _FIGURES:
        out.append(f"| {label} | {_figure(h, key)} | {_figure(halves[0], key)} | {_figure(halves[1], key)} |")
    if h.trends:
        out += ["", "Trends:", ""] + [f"- {_md(t)}" for t in h.trends]
    by_kind: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_kind.setdefault(f.kind, []).append(f)
    for kind, title in _TITLES.items():
        if kind not in by_kind:
            continue
        out += ["", f"## {title}", ""]
        for f in by_kind[kind]:
            out.append(f"- **{f.severity}** `{_md(f.service)}`: {_md(f.summary)}")
            out += [f"  - {_md(e.source)}: {_md(e.summary)}" for e in f.evidence[:3]]
            out.append(f"  - recommendation: {_md(f.recommendation)}")
    if report.gaps:
        out += ["", "## Gaps", ""] + [f"- {_md(g.source)}: {_md(g.reason)}" for g in report.gaps]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- SVG charts

W, H, PAD = 640, 220, 40


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda x: a + (x - lo) / span * (b - a)


def _axes(title: str, ymax: float, unit: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">',
            f"<title>{html.escape(title)}</title>",
            f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>',
            f'<text x="{PAD}" y="16" font-size="13" font-family="sans-serif">{html.escape(title)}</text>',
            f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#444"/>',
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#444"/>',
            f'<text x="4" y="{PAD + 4}" font-size="10" font-family="sans-serif">{ymax:.3g}{html.escape(unit)}</text>',
            f'<text x="4" y="{H - PAD}" font-size="10" font-family="sans-serif">0</text>']


def weekly_chart(weeks: list[dict[str, Any]], key: str, title: str, colour: str, unit: str, bars: bool) -> str:
    vals = [w.get(key) for w in weeks]
    ymax = max([v for v in vals if v is not None] + [1.0])
    x = _scale(0, max(len(weeks), 1), PAD + 4, W - 14)
    y = _scale(0, ymax, H - PAD, PAD)
    parts = _axes(title, ymax, unit)
    step = (W - PAD - 18) / max(len(weeks), 1)
    points = []
    for i, (w, v) in enumerate(zip(weeks, vals, strict=True)):
        if i % max(1, len(weeks) // 6) == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{H - PAD + 14}" font-size="9" font-family="sans-serif">'
                         f'{html.escape(str(w.get("week", "")))[5:]}</text>')
        if v is None:
            continue
        if bars:
            parts.append(f'<rect x="{x(i) + 2:.1f}" y="{y(v):.1f}" width="{max(step - 4, 2):.1f}" '
                         f'height="{H - PAD - y(v):.1f}" fill="{colour}"/>')
        else:
            points.append(f"{x(i) + step / 2:.1f},{y(v):.1f}")
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="3"/>')
        parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="4" fill="{colour}"/>' for p in points]
    parts.append("</svg>")
    return "\n".join(parts)


def forecast_chart(fc: dict[str, Any], horizon_days: float = 14.0) -> str:
    """Daily peaks as % of the limit, the fitted trend extended to the horizon, and its 95% band."""
    limit, days, values = fc["limit"], fc["days"], fc["values"]
    last = fc["at"]
    end = last + horizon_days
    x = _scale(days[0] if days else 0, end, PAD + 4, W - 14)
    y = _scale(0, 120, H - PAD, PAD)
    title = f"{fc['service']} {fc['resource']} {fc['labels']}: daily peak, % of limit"
    parts = _axes(title, 120, "%")
    lvl, s, lo, hi = fc["level"], fc["slope"], fc["low"], fc["high"]
    band = [(last, lvl), (end, lvl + hi * horizon_days), (end, lvl + lo * horizon_days)]
    pts = " ".join(f"{x(d):.1f},{y(min(100 * v / limit, 120)):.1f}" for d, v in band)
    parts.append(f'<polygon points="{pts}" fill="{BAND_COLOUR}" fill-opacity="0.35" stroke="none"/>')
    parts.append(f'<line x1="{x(days[0] if days else 0):.1f}" y1="{y(100):.1f}" x2="{x(end):.1f}" y2="{y(100):.1f}" '
                 'stroke="#000" stroke-dasharray="6,4"/>')
    x0 = days[0] if days else last
    y0 = lvl - s * (last - x0)
    parts.append(f'<line x1="{x(x0):.1f}" y1="{y(100 * y0 / limit):.1f}" x2="{x(end):.1f}" '
                 f'y2="{y(min(100 * (lvl + s * horizon_days) / limit, 120)):.1f}" stroke="{BAND_COLOUR}" '
                 'stroke-width="2"/>')
    parts += [f'<circle cx="{x(d):.1f}" cy="{y(min(100 * v / limit, 120)):.1f}" r="3" fill="{POINT_COLOUR}"/>'
              for d, v in zip(days, values, strict=True)]
    parts.append("</svg>")
    return "\n".join(parts)


_CSS = ("body{font-family:sans-serif;max-width:980px;margin:24px auto;color:#222;background:#fff}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}.high{color:#b00020;font-weight:bold}"
        ".medium{color:#a65e00}.low{color:#555}li{margin:4px 0}.charts svg{margin:8px 8px 8px 0}")


def review_html(report: ScanReport) -> str:
    """One self-contained HTML page (inline CSS and SVG, no scripts)."""
    e = html.escape
    h = report.health
    halves = h.halves if len(h.halves) == 2 else [h, h]
    rows = "".join(f"<tr><td>{e(label)}</td><td>{e(_figure(h, k))}</td><td>{e(_figure(halves[0], k))}</td>"
                   f"<td>{e(_figure(halves[1], k))}</td></tr>" for k, label in _FIGURES)
    charts = [weekly_chart(report.weekly, "mttr_minutes_median", "MTTR median per week (min)", MTTR_COLOUR, "",
                           bars=False),
              weekly_chart(report.weekly, "alerts", "Alerts per week", ALERT_COLOUR, "", bars=True)]
    charts += [forecast_chart(fc) for fc in report.forecasts[:6]]
    items = []
    for f in report.findings:
        ev = "".join(f"<li>{e(x.source)}: {e(x.summary)}</li>" for x in f.evidence[:3])
        items.append(f'<li><span class="{e(f.severity)}">{e(f.severity)}</span> <b>{e(_TITLES[f.kind])}</b> '
                     f"<code>{e(f.service)}</code>: {e(f.summary)}<ul>{ev}<li>recommendation: "
                     f"{e(f.recommendation)}</li></ul></li>")
    trends = "".join(f"<li>{e(t)}</li>" for t in h.trends)
    gaps = "".join(f"<li>{e(g.source)}: {e(g.reason)}</li>" for g in report.gaps)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Operational review: {e(report.site)}'
        f"</title><style>{_CSS}</style></head><body>"
        f"<h1>Operational review: {e(report.site)}</h1><p>{e(report.period['start'])} to {e(report.period['end'])}"
        f" &middot; {len(report.findings)} findings &middot; possible savings about ${_savings(report):,.0f}/month. "
        "Findings are suggestions: any change goes through approval.</p>"
        f'<h2>Health</h2><table><tr><th>figure</th><th>period</th><th>first half</th><th>second half</th></tr>{rows}'
        f"</table><ul>{trends}</ul>"
        f'<h2>Charts</h2><div class="charts">{"".join(charts)}</div>'
        f"<h2>Findings</h2><ol>{''.join(items)}</ol>"
        + (f"<h2>Gaps</h2><ul>{gaps}</ul>" if gaps else "")
        + "</body></html>\n")
