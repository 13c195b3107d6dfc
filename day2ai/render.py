"""Views of a Report for people: terminal (rich), Markdown (chat bots) and HTML (Jupyter)."""

from __future__ import annotations

from html import escape

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from day2ai.models import Hypothesis, Report


def _evidence_lines(report: Report, hyp: Hypothesis) -> list[str]:
    by_id = report.evidence_by_id()
    return [f"[{i}] {by_id[i].source.value}: {by_id[i].summary}" for i in hyp.supporting if i in by_id]


def report_rich(report: Report, max_hypotheses: int = 5) -> Group:
    """A rich renderable for the terminal: one block per hypothesis, wrapping at any width."""
    inc = report.incident
    parts: list[Text | Panel] = [
        Text.assemble((inc.title, "bold"), f"  ({inc.id}, investigator: {report.investigator})"), Text("")]
    for rank, h in enumerate(report.hypotheses[:max_hypotheses], start=1):
        style = "bold red" if rank == 1 else "bold"
        block = Text.assemble((f"{rank}. {h.service}", style), "  ", (h.fault.value, "cyan"),
                              f"  confidence {h.confidence:.2f}\n", f"   {h.summary}\n")
        for line in _evidence_lines(report, h)[:4]:
            block.append(f"   - {line}\n", style="dim")
        for r in h.remediations[:3]:
            block.append(f"   > {r.action}" + (f" ({r.runbook})" if r.runbook else "") + "\n", style="green")
        parts.append(block)
    if not report.hypotheses:
        parts.append(Text("No hypotheses: nothing anomalous was found.", style="yellow"))
    if report.gaps:
        parts.append(Panel("\n".join(f"- {g.source}: {g.reason}" for g in report.gaps), title="not checked"))
    u = report.usage
    parts.append(Text(f"{u.tool_calls} tool calls, {u.llm_tokens} LLM tokens, {u.seconds:.2f} s, "
                      f"{len(report.evidence)} evidence items", style="dim"))
    return Group(*parts)


def report_markdown(report: Report, max_hypotheses: int = 3) -> str:
    """Markdown for chat bots (Slack/Teams) and files."""
    inc = report.incident
    out = [f"**{inc.title}** (`{inc.id}`)", ""]
    for rank, h in enumerate(report.hypotheses[:max_hypotheses], start=1):
        out.append(f"{rank}. **{h.service}**: `{h.fault.value}` (confidence {h.confidence:.2f}): {h.summary}")
        out.extend(f"   - {line}" for line in _evidence_lines(report, h)[:3])
        for r in h.remediations[:2]:
            ref = f" ([runbook]({r.runbook}))" if r.runbook else ""
            out.append(f"   - suggested: {r.action}{ref}")
    if report.gaps:
        out.append("")
        out.append("Not checked: " + "; ".join(f"{g.source} ({g.reason})" for g in report.gaps))
    return "\n".join(out)


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
