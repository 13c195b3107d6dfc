"""The offline triage the LLM investigator starts from, and its compact text for the model.

The triage investigator (by default :class:`~day2ai.agent.offline.OfflineInvestigator`) runs
first; its evidence is copied into the LLM run's :class:`Investigation` with the same ids, so the
model can cite what the triage found. Its dossier (``day2ai.analysis.dossier``) is the model's
starting point; for any other triage investigator :func:`render_triage` writes a short one
(ranked candidates with their evidence ids, then the evidence lines), capped in tokens.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from day2ai.agent.base import EventListener, Investigator
from day2ai.models import Incident, Report
from day2ai.sources.base import Sources
from day2ai.tokens import truncate_to_tokens
from day2ai.tools.base import Investigation

DOSSIER_TOKENS = 1000


@runtime_checkable
class TriageProvider(Protocol):
    """An investigator that also writes a dossier for the model (the offline investigator does)."""

    async def triage(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                     listeners: list[EventListener] | None = None,
                     with_dossier: bool = True) -> tuple[Report, str]: ...


def default_triage(dossier_tokens: int = DOSSIER_TOKENS) -> Investigator | None:
    """The offline investigator, if it is available in this installation."""
    try:
        from day2ai.agent.offline import OfflineInvestigator
    except ImportError:
        return None
    investigator: Investigator = OfflineInvestigator(dossier_tokens=dossier_tokens)
    return investigator


async def run_triage(
    triage: Investigator, inv: Investigation, knowledge: Any, listeners: list[EventListener]
) -> tuple[Report, str]:
    """Run the triage, seed ``inv`` with its evidence (same ids), steps, gaps and tool calls, and
    return its report and dossier (its own if it writes one, else :func:`render_triage`)."""
    if isinstance(triage, TriageProvider):
        report, dossier = await triage.triage(inv.incident, inv.sources, knowledge=knowledge,
                                              listeners=listeners)
    else:
        report = await triage.investigate(inv.incident, inv.sources, knowledge=knowledge, listeners=listeners)
        dossier = render_triage(report)
    inv.evidence.extend(report.evidence)
    for step in report.timeline:
        inv.timeline.append(step.model_copy(update={"index": len(inv.timeline) + 1}))
    for gap in report.gaps:
        inv.add_gap(gap.source, gap.reason)
    inv.usage.tool_calls += report.usage.tool_calls
    return report, dossier


def render_triage(report: Report | None, max_tokens: int = DOSSIER_TOKENS) -> str:
    """The triage as compact text: candidates best first, then the evidence they rest on."""
    if report is None:
        return "No offline triage is available: investigate from scratch with the tools."
    lines = [f"Offline triage by {report.investigator}. Candidates, best first:"]
    for rank, h in enumerate(report.hypotheses, start=1):
        ids = ", ".join(h.supporting) or "none"
        lines.append(f"{rank}. {h.service} / {h.fault.value} (confidence {h.confidence:.2f}; "
                     f"evidence {ids}): {h.summary}")
    if not report.hypotheses:
        lines.append("(none: the offline analysis found no clear candidate)")
    lines.append("Evidence:")
    cited = {i for h in report.hypotheses for i in h.supporting}
    ordered = sorted(report.evidence, key=lambda e: (e.id not in cited, -e.strength))
    for e in ordered:
        where = f" [{e.service}]" if e.service else ""
        lines.append(f"{e.id} {e.source.value}{where}: {e.summary}")
    for gap in report.gaps:
        lines.append(f"gap: {gap.source}: {gap.reason}")
    return truncate_to_tokens("\n".join(lines), max_tokens)
