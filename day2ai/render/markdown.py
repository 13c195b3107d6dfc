"""Markdown views of a report, for GitHub comments, Teams messages and files.

Text from the incident and the telemetry is untrusted: Markdown and HTML characters are escaped
with backslashes (CommonMark), ``@`` mentions are broken with a zero-width space, long evidence is
shortened and hypotheses below ``min_confidence`` are folded into one line. Runbook links are
absolute when ``runbook_base_url`` is given, otherwise the runbook path is shown as code.
"""

from __future__ import annotations

import re

from day2ai.models import Hypothesis, Report
from day2ai.render.common import split_hypotheses

DEFAULT_MIN_CONFIDENCE = 0.15
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def md_escape(text: str, limit: int = 400) -> str:
    """One line of untrusted text, shortened to ``limit`` characters (before escaping) and escaped."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return _SPECIAL.sub(r"\\\1", text).replace("@", "@\u200b")


def _code(text: str, limit: int = 120) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())[:limit].replace("`", "'")
    return f"`{text}`"


def _runbook(runbook: str, base_url: str | None) -> str:
    target = runbook.strip()
    if base_url and "://" not in target:
        target = base_url.rstrip("/") + "/" + target.lstrip("/")
    if re.match(r"^https?://[^\s()<>]+$", target):
        return f"[runbook]({target})"
    return "runbook " + _code(runbook, 200)


def _hypothesis_lines(report: Report, rank: int, hyp: Hypothesis, runbook_base_url: str | None,
                      max_evidence: int, evidence_chars: int) -> list[str]:
    out = [f"{rank}. **{md_escape(hyp.service, 120)}**: `{hyp.fault.value}` (confidence {hyp.confidence:.2f}): "
           f"{md_escape(hyp.summary, 400)}"]
    by_id = report.evidence_by_id()
    cited = [by_id[i] for i in hyp.supporting if i in by_id]
    out.extend(f"   - [{e.id}] {e.source.value}: {md_escape(e.summary, evidence_chars)}" for e in cited[:max_evidence])
    if len(cited) > max_evidence:
        out.append(f"   - and {len(cited) - max_evidence} more")
    for rem in hyp.remediations[:2]:
        ref = f" ({_runbook(rem.runbook, runbook_base_url)})" if rem.runbook else ""
        out.append(f"   - suggested: {md_escape(rem.action, 200)}{ref}")
    return out


def report_markdown(report: Report, max_hypotheses: int = 3, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                    runbook_base_url: str | None = None, max_evidence: int = 3, evidence_chars: int = 200) -> str:
    """The report as Markdown (GitHub, Teams, files)."""
    inc = report.incident
    out = [f"**{md_escape(inc.title, 200)}** (`{inc.id.replace('`', '')}`)", ""]
    shown, folded = split_hypotheses(report, min_confidence, max_hypotheses)
    if not shown:
        out.append(f"_No hypothesis reached confidence {min_confidence:.2f}._" if report.hypotheses
                   else "_No hypothesis: not enough evidence._")
    for rank, hyp in shown:
        out.extend(_hypothesis_lines(report, rank, hyp, runbook_base_url, max_evidence, evidence_chars))
    if folded:
        parts = [f"{r}. {md_escape(h.service, 60)} `{h.fault.value}` {h.confidence:.2f}" for r, h in folded[:10]]
        more = f" and {len(folded) - 10} more" if len(folded) > 10 else ""
        out.extend(["", "Also considered: " + "; ".join(parts) + more])
    if report.gaps:
        out.extend(["", "Not checked: " + "; ".join(f"{md_escape(g.source, 40)} ({md_escape(g.reason, 160)})"
                                                    for g in report.gaps[:10])])
    return "\n".join(out)
