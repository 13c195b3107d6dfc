"""Pieces every view of a report shares."""

from __future__ import annotations

from day2ai.models import Hypothesis, Report


def _evidence_lines(report: Report, hyp: Hypothesis) -> list[str]:
    by_id = report.evidence_by_id()
    return [f"[{i}] {by_id[i].source.value}: {by_id[i].summary}" for i in hyp.supporting if i in by_id]


def split_hypotheses(report: Report, min_confidence: float,
                     max_shown: int) -> tuple[list[tuple[int, Hypothesis]], list[tuple[int, Hypothesis]]]:
    """(rank, hypothesis) pairs to show in full (confidence >= ``min_confidence``, at most ``max_shown``)
    and the rest, to fold into one line; ranks are 1-based positions in the report."""
    ranked = list(enumerate(report.hypotheses, start=1))
    shown = [(r, h) for r, h in ranked if h.confidence >= min_confidence][:max(0, max_shown)]
    kept = {r for r, _ in shown}
    return shown, [(r, h) for r, h in ranked if r not in kept]
