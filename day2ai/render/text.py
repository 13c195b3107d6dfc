"""The terminal view of a report (rich).

Everything in a report may come from untrusted telemetry (log messages with ANSI/OSC escape
sequences, bidi overrides): :func:`report_rich` passes every string it shows through
:func:`day2ai.safetext.clean`.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from day2ai.models import Report
from day2ai.render.common import _evidence_lines
from day2ai.safetext import clean

__all__ = ["clean", "report_rich"]


def report_rich(report: Report, max_hypotheses: int = 5) -> Group:
    """A rich renderable for the terminal: one block per hypothesis, wrapping at any width."""
    inc = report.incident
    parts: list[Text | Panel] = [
        Text.assemble((clean(inc.title), "bold"), f"  ({clean(inc.id)}, investigator: {clean(report.investigator)})"),
        Text("")]
    for rank, h in enumerate(report.hypotheses[:max_hypotheses], start=1):
        style = "bold red" if rank == 1 else "bold"
        block = Text.assemble((f"{rank}. {clean(h.service)}", style), "  ", (h.fault.value, "cyan"),
                              f"  confidence {h.confidence:.2f}\n", f"   {clean(h.summary)}\n")
        for line in _evidence_lines(report, h)[:4]:
            block.append(f"   - {clean(line)}\n", style="dim")
        for r in h.remediations[:3]:
            block.append(f"   > {clean(r.action)}" + (f" ({clean(r.runbook)})" if r.runbook else "") + "\n",
                         style="green")
        parts.append(block)
    if not report.hypotheses:
        if report.gaps:
            parts.append(Text("No hypotheses, but the data was incomplete (see \"not checked\"): "
                              "this does not mean the system is healthy.", style="bold yellow"))
        else:
            parts.append(Text("No hypotheses: nothing anomalous was found.", style="yellow"))
    if report.gaps:
        parts.append(Panel(Text("\n".join(f"- {clean(g.source)}: {clean(g.reason)}" for g in report.gaps)),
                           title="not checked"))
    if report.notes:  # e.g. the LLM agent's "Offline fallback: the hypotheses are the offline triage's (...)"
        parts.append(Text("\n".join(f"note: {clean(n)}" for n in report.notes[:6]), style="yellow"))
    u = report.usage
    parts.append(Text(f"{u.tool_calls} tool calls, {u.llm_tokens} LLM tokens, {u.seconds:.2f} s, "
                      f"{len(report.evidence)} evidence items", style="dim"))
    return Group(*parts)
