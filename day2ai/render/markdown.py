"""Markdown views of a report, for chat bots (Teams, GitHub) and files."""

from __future__ import annotations

from day2ai.models import Report
from day2ai.render.common import _evidence_lines


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
