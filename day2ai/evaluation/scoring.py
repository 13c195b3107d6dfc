"""Pure scoring: one report against its truth, and a suite of case scores into a result.

Definitions (shared/spec/incident-bundle.md, "Scoring", plus the harness's own extras):

- ranked services: the distinct services of the report's hypotheses, best first;
  ``rank`` is the 1-based position of the truth service there, or None. Service names
  compare case-insensitively, surrounding blanks ignored.
- AC@k: the fraction of cases whose rank is at most k; Avg@k: the mean of AC@1 … AC@k.
- fault accuracy: the fraction of cases whose first hypothesis names the truth service and
  the truth fault.
- grounding: a hypothesis is grounded when it cites at least one supporting evidence id and
  every id it cites (supporting or contradicting) is the id of evidence in the report.
- remediation hit: for a truth with remediation words, whether any word appears
  (case-insensitive substring) in the actions or rationales of the hypotheses about the truth
  service, or of the first hypothesis when none is about it.

A case that failed to load or to investigate is a miss on every score that counts it.
Nothing here does I/O; results are rounded so that reruns give byte-identical scores.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence

from day2ai.evaluation.results import CaseResult, FaultScores, SuiteResult
from day2ai.models import Hypothesis, Report, Truth

DIGITS = 4
NO_PREDICTION = "none"
UNKNOWN_TRUTH = "unknown"


def _norm(service: str) -> str:
    return service.strip().casefold()


def rank_of(truth_service: str, ranked: Sequence[str]) -> int | None:
    """1-based position of ``truth_service`` in ``ranked``, or None."""
    target = _norm(truth_service)
    for i, service in enumerate(ranked, start=1):
        if _norm(service) == target:
            return i
    return None


def is_grounded(hypothesis: Hypothesis, evidence_ids: set[str]) -> bool:
    """Cites at least one supporting id, and every cited id exists in the report."""
    if not hypothesis.supporting:
        return False
    cited = [*hypothesis.supporting, *hypothesis.contradicting]
    return all(i in evidence_ids for i in cited)


def grounded_count(report: Report) -> int:
    ids = {e.id for e in report.evidence}
    return sum(is_grounded(h, ids) for h in report.hypotheses)


def remediation_hit(report: Report, truth: Truth) -> bool | None:
    """Whether a truth remediation word appears in the relevant remediations (None: no words)."""
    words = [w.strip().casefold() for w in truth.remediation if w.strip()]
    if not words:
        return None
    target = _norm(truth.root_cause.service)
    relevant = [h for h in report.hypotheses if _norm(h.service) == target] or report.hypotheses[:1]
    text = " ".join(f"{r.action} {r.rationale}" for h in relevant for r in h.remediations).casefold()
    return any(w in text for w in words)


def score_case(case_id: str, report: Report, truth: Truth, seconds: float,
               bundle: str | None = None) -> CaseResult:
    """Score one report against its truth."""
    ranked = report.ranked_services()
    top = report.hypotheses[0] if report.hypotheses else None
    rank = rank_of(truth.root_cause.service, ranked)
    usage = report.usage
    return CaseResult(
        id=case_id,
        bundle=bundle,
        truth_service=truth.root_cause.service,
        truth_fault=truth.root_cause.fault.value,
        ranked_services=ranked,
        predicted_service=top.service if top else None,
        predicted_fault=top.fault.value if top else None,
        rank=rank,
        seconds=round(seconds, 3),
        hypotheses=len(report.hypotheses),
        grounded_hypotheses=grounded_count(report),
        fault_correct=top is not None and rank == 1 and top.fault == truth.root_cause.fault,
        remediation_hit=remediation_hit(report, truth),
        tokens=usage.llm_tokens,
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        tool_calls=usage.tool_calls,
        llm_calls=usage.llm_calls,
        cost_usd=round(usage.cost_usd, 6),
    )


def miss_case(case_id: str, error: str, seconds: float, truth: Truth | None = None,
              bundle: str | None = None) -> CaseResult:
    """A case that failed: a miss on every score, with its error."""
    return CaseResult(
        id=case_id,
        bundle=bundle,
        truth_service=truth.root_cause.service if truth else None,
        truth_fault=truth.root_cause.fault.value if truth else None,
        rank=None,
        seconds=round(seconds, 3),
        error=error,
        remediation_hit=False if truth and any(w.strip() for w in truth.remediation) else None,
    )


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return round(sum(vals) / len(vals), DIGITS) if vals else 0.0


def ac_at(cases: Sequence[CaseResult], k: int) -> float:
    return _mean(1.0 if c.hit_at(k) else 0.0 for c in cases)


def avg_at(cases: Sequence[CaseResult], k: int) -> float:
    return round(sum(ac_at(cases, i) for i in range(1, k + 1)) / k, DIGITS) if cases else 0.0


def fault_accuracy(cases: Sequence[CaseResult]) -> float:
    return _mean(1.0 if c.fault_correct else 0.0 for c in cases)


def per_fault(cases: Sequence[CaseResult]) -> dict[str, FaultScores]:
    """Scores broken down by truth fault word (sorted by word)."""
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for c in cases:
        groups[c.truth_fault or UNKNOWN_TRUTH].append(c)
    return {
        fault: FaultScores(cases=len(group), ac_at_1=ac_at(group, 1), ac_at_3=ac_at(group, 3),
                           avg_at_5=avg_at(group, 5), fault_accuracy=fault_accuracy(group))
        for fault, group in sorted(groups.items())
    }


def confusion(cases: Sequence[CaseResult]) -> dict[str, dict[str, int]]:
    """Counts of (truth fault -> fault of the first hypothesis); ``none`` when nothing was named."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in cases:
        table[c.truth_fault or UNKNOWN_TRUTH][c.predicted_fault or NO_PREDICTION] += 1
    return {t: dict(sorted(row.items())) for t, row in sorted(table.items())}


def aggregate(cases: Sequence[CaseResult], *, suite: str = "", investigator: str = "") -> SuiteResult:
    """All scores of a suite from its case scores (order-independent: cases are sorted by id)."""
    ordered = sorted(cases, key=lambda c: (c.id, c.bundle or ""))
    rem = [c.remediation_hit for c in ordered if c.remediation_hit is not None]
    n_hyp = sum(c.hypotheses for c in ordered)
    answered = [c for c in ordered if c.error is None and c.hypotheses > 0]
    seconds = [c.seconds for c in ordered]
    tokens = [c.tokens for c in ordered]
    return SuiteResult(
        suite=suite,
        investigator=investigator,
        cases=len(ordered),
        errors=sum(c.error is not None for c in ordered),
        ac_at_1=ac_at(ordered, 1),
        ac_at_3=ac_at(ordered, 3),
        ac_at_5=ac_at(ordered, 5),
        avg_at_5=avg_at(ordered, 5),
        fault_accuracy=fault_accuracy(ordered),
        remediation_hit_rate=_mean(1.0 if r else 0.0 for r in rem) if rem else None,
        remediation_cases=len(rem),
        grounding_rate=round(sum(c.grounded_hypotheses for c in ordered) / n_hyp, DIGITS) if n_hyp else None,
        grounded_case_rate=_mean(1.0 if c.grounded_hypotheses == c.hypotheses else 0.0 for c in answered)
        if answered else None,
        mean_seconds=round(statistics.fmean(seconds), 3) if seconds else 0.0,
        median_seconds=round(statistics.median(seconds), 3) if seconds else 0.0,
        total_seconds=round(sum(seconds), 3),
        mean_tokens=_mean(float(t) for t in tokens),
        total_tokens=sum(tokens),
        per_fault=per_fault(ordered),
        confusion=confusion(ordered),
        per_case=list(ordered),
    )
