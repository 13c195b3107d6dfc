"""The terminal view of a report (rich)."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from day2ai.models import Report
from day2ai.render.common import _evidence_lines


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
