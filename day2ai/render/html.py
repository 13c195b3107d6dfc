"""HTML views for Jupyter: incidents, evidence, hypotheses, reports and evaluation results.

Every text that comes from data (log lines, summaries, labels, case ids) is escaped: it is
untrusted. Models call these from their ``_repr_html_`` methods, importing inside the method.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from day2ai.models import Evidence, Hypothesis, Incident, Report, TimeRange

if TYPE_CHECKING:
    from day2ai.evaluation.results import SuiteResult
    from day2ai.scan.models import ScanReport

_BOX = "border:1px solid #ccc;border-radius:6px;padding:6px 10px;margin:4px 0"
_SOURCE_COLORS = {"metrics": "#4c72b0", "logs": "#55a868", "traces": "#8172b2", "changes": "#c44e52",
                  "knowledge": "#937860"}


def _range(tr: TimeRange | None) -> str:
    if tr is None:
        return "–"
    return f"{tr.start:%Y-%m-%d %H:%M:%S} → {tr.end:%H:%M:%S} UTC ({tr.seconds / 60:.0f} min)"


def _row(name: str, value: str) -> str:
    return f"<tr><th style='text-align:left;padding-right:12px'>{escape(name)}</th><td>{value}</td></tr>"


def _bar(value: float, color: str = "#e67e22") -> str:
    width = round(max(0.0, min(1.0, value)) * 100)
    return (f"<span style='display:inline-block;width:80px;background:#eee;vertical-align:middle'>"
            f"<span style='display:block;width:{width}%;background:{color};height:8px'></span></span> {value:.2f}")


def incident_html(inc: Incident) -> str:
    sym = inc.symptom
    rows = [
        _row("id", f"<code>{escape(inc.id)}</code>"),
        _row("detected at", escape(f"{inc.detected_at:%Y-%m-%d %H:%M:%S} UTC")),
        _row("window", escape(_range(inc.window))),
        _row("baseline", escape(_range(inc.baseline)) if inc.baseline else "<em>before the onset (estimated)</em>"),
        _row("symptom service", escape(sym.service or "–")),
    ]
    if sym.description:
        rows.append(_row("description", escape(sym.description)))
    if sym.alert is not None:
        labels = ", ".join(f"{k}={v}" for k, v in sym.alert.labels.items())
        rows.append(_row("alert", f"<code>{escape(sym.alert.name)}</code> {escape(labels)}"))
    return f"<div style='{_BOX}'><b>{escape(inc.title)}</b><table>{''.join(rows)}</table></div>"


def _selector_text(ev: Evidence) -> str:
    sel = ev.selector
    if sel is None:
        return ""
    parts: list[str] = []
    if sel.metric:
        labels = ",".join(f"{k}={v}" for k, v in sel.labels.items() if k != "__name__")
        parts.append(f"series {sel.metric}{{{labels}}}")
    if sel.template_id:
        parts.append(f"log template {sel.template_id}: {sel.template or ''}")
    if sel.caller and sel.callee:
        parts.append(f"calls {sel.caller} → {sel.callee}" + (f" ({sel.operation})" if sel.operation else ""))
    if sel.document:
        parts.append(f"document {sel.document}")
    if sel.onset is not None:
        parts.append(f"onset {sel.onset:%H:%M:%S}")
    return "; ".join(parts)


def evidence_html(ev: Evidence, *, compact: bool = False) -> str:
    color = _SOURCE_COLORS.get(ev.source.value, "#888")
    tag = (f"<span style='background:{color};color:#fff;border-radius:3px;padding:0 4px;font-size:85%'>"
           f"{escape(ev.source.value)}</span>")
    head = f"<code>{escape(ev.id)}</code> {tag} {escape(ev.service or '')} {_bar(ev.strength, color)}"
    if compact:
        return f"<li>{head}<br>{escape(ev.summary)}</li>"
    rows = [_row("query", f"<code>{escape(ev.query)}</code>"), _row("period", escape(_range(ev.time_range)))]
    if sel := _selector_text(ev):
        rows.append(_row("selects", escape(sel)))
    return f"<div style='{_BOX}'>{head}<br>{escape(ev.summary)}<table>{''.join(rows)}</table></div>"


def hypothesis_html(h: Hypothesis, report: Report | None = None) -> str:
    by_id = report.evidence_by_id() if report is not None else {}
    cited = [by_id[i] for i in h.supporting if i in by_id]
    ev = "".join(evidence_html(e, compact=True) for e in cited)
    missing = [i for i in h.supporting if i not in by_id]
    if missing:
        ev += f"<li>evidence: {escape(', '.join(missing))}" + (" (not in the report)" if report else "") + "</li>"
    against = [by_id[i] for i in h.contradicting if i in by_id]
    contra = "".join(evidence_html(e, compact=True) for e in against)
    fixes = "".join(
        f"<li>{escape(r.action)}" + (f" <code>{escape(r.runbook)}</code>" if r.runbook else "")
        + (" <em>(needs approval)</em>" if r.requires_approval else "") + "</li>"
        for r in h.remediations)
    return (
        f"<div style='{_BOX}'>"
        f"<b>{escape(h.service)}</b> &mdash; <code>{escape(h.fault.value)}</code> {_bar(h.confidence)}"
        f"<br>{escape(h.summary)}<ul>{ev}</ul>"
        + (f"<b>Against</b><ul>{contra}</ul>" if contra else "")
        + (f"<b>Suggested remediation</b><ul>{fixes}</ul>" if fixes else "") + "</div>")


def report_html(report: Report, max_hypotheses: int = 5) -> str:
    inc = report.incident
    hyps = "".join(hypothesis_html(h, report) for h in report.hypotheses[:max_hypotheses])
    gaps = "".join(f"<li>{escape(g.source)}: {escape(g.reason)}</li>" for g in report.gaps)
    u = report.usage
    return (
        f"<div><h4>{escape(inc.title)} <small>({escape(inc.id)}, {escape(report.investigator)})</small></h4>"
        f"{hyps or '<p>No hypotheses.</p>'}"
        + (f"<details><summary>Gaps ({len(report.gaps)})</summary><ul>{gaps}</ul></details>" if gaps else "")
        + f"<p style='color:#888'>{u.tool_calls} tool calls, {u.llm_tokens} LLM tokens, "
        f"{u.seconds:.2f} s, {len(report.evidence)} evidence items</p></div>")


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def confusion_html(result: SuiteResult) -> str:
    """The confusion matrix of fault words as a shaded table (diagonal in green)."""
    rows = list(result.confusion)
    cols = sorted({p for row in result.confusion.values() for p in row})
    top = max((n for row in result.confusion.values() for n in row.values()), default=1) or 1
    head = "".join(f"<th style='writing-mode:vertical-rl;font-weight:normal'>{escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            n = result.confusion[r].get(c, 0)
            hue = "39,174,96" if r == c else "192,57,43"
            style = f"background:rgba({hue},{0.15 + 0.85 * n / top:.2f})" if n else ""
            cells.append(f"<td style='text-align:center;{style}'>{n or ''}</td>")
        body.append(f"<tr><th style='text-align:left'>{escape(r)}</th>{''.join(cells)}</tr>")
    return (f"<table><tr><th>truth \\ predicted</th>{head}</tr>{''.join(body)}</table>")


def suite_html(result: SuiteResult) -> str:
    scores = "".join(_row(k, _num(v)) for k, v in result.scores().items())
    misses = result.misses()
    miss_rows = "".join(
        f"<tr><td><code>{escape(c.id)}</code></td><td>{escape(f'{c.truth_service}/{c.truth_fault}')}</td>"
        f"<td>{escape(', '.join(c.ranked_services[:3]) or '–')}</td><td>{escape(c.error or '')}</td></tr>"
        for c in misses[:20])
    return (
        f"<div style='{_BOX}'><b>{escape(result.investigator or 'investigator')}</b> on "
        f"<code>{escape(result.suite)}</code>: {result.cases} cases, {result.errors} errors, "
        f"{result.mean_seconds:.2f} s per case"
        f"<div style='display:flex;gap:24px;align-items:flex-start'><table>{scores}</table>"
        f"{confusion_html(result)}</div>"
        + (f"<details><summary>Misses ({len(misses)})</summary><table><tr><th>case</th><th>truth</th>"
           f"<th>top 3</th><th>error</th></tr>{miss_rows}</table></details>" if misses else "")
        + "</div>")


def scan_html(report: ScanReport, height: int = 720) -> str:
    """The operational review page in an isolated frame (its CSS cannot restyle the notebook)."""
    page = report.to_html()
    return (f"<iframe srcdoc=\"{escape(page, quote=True)}\" style='width:100%;height:{height}px;border:1px solid #ccc'"
            f" sandbox title='{escape(report.site)} operational review'></iframe>")
