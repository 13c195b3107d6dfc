"""Pieces every view of a report shares."""

from __future__ import annotations

from day2ai.models import Hypothesis, Report


def _evidence_lines(report: Report, hyp: Hypothesis) -> list[str]:
    by_id = report.evidence_by_id()
    return [f"[{i}] {by_id[i].source.value}: {by_id[i].summary}" for i in hyp.supporting if i in by_id]
