"""HTML views for Jupyter."""

from __future__ import annotations

from html import escape

from day2ai.models import Hypothesis, Report
from day2ai.render.common import _evidence_lines


def hypothesis_html(h: Hypothesis, report: Report | None = None) -> str:
    ev = "".join(f"<li>{escape(line)}</li>" for line in (_evidence_lines(report, h) if report else []))
    if not ev and h.supporting:
        ev = f"<li>evidence: {escape(', '.join(h.supporting))}</li>"
    fixes = "".join(
        f"<li>{escape(r.action)}" + (f" <code>{escape(r.runbook)}</code>" if r.runbook else "")
        + (" <em>(needs approval)</em>" if r.requires_approval else "") + "</li>"
        for r in h.remediations)
    width = round(h.confidence * 100)
    return (
        f"<div style='border:1px solid #ccc;border-radius:6px;padding:6px 10px;margin:4px 0'>"
        f"<b>{escape(h.service)}</b> &mdash; <code>{escape(h.fault.value)}</code> "
        f"<span style='display:inline-block;width:80px;background:#eee;vertical-align:middle'>"
        f"<span style='display:block;width:{width}%;background:#e67e22;height:8px'></span></span> "
        f"{h.confidence:.2f}<br>{escape(h.summary)}<ul>{ev}</ul>"
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
