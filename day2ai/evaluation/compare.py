"""Compare two evaluation results case by case (``day2ai eval compare A.json B.json``).

A is the reference (before), B the candidate (after). A case *regressed* when B ranks its
truth service worse than A did (a miss counts as rank infinity), or when B lost the fault that
A had right at the same rank; it *improved* in the mirror cases. Cases are matched by id;
cases present in only one result are listed apart.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from day2ai.evaluation.results import CaseResult, SuiteResult

Change = Literal["regressed", "improved", "same"]


class CaseChange(BaseModel):
    id: str
    change: Change
    rank_a: int | None
    rank_b: int | None
    fault_a: str | None
    fault_b: str | None
    truth_service: str | None
    truth_fault: str | None
    error_b: str | None = None
    why: str = ""


class ScoreDelta(BaseModel):
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else round(self.b - self.a, 4)


class Comparison(BaseModel):
    a: str
    b: str
    scores: list[ScoreDelta]
    cases: list[CaseChange] = Field(default_factory=list)
    only_in_a: list[str] = Field(default_factory=list)
    only_in_b: list[str] = Field(default_factory=list)

    @property
    def regressions(self) -> list[CaseChange]:
        return [c for c in self.cases if c.change == "regressed"]

    @property
    def improvements(self) -> list[CaseChange]:
        return [c for c in self.cases if c.change == "improved"]


def _rank_key(rank: int | None) -> float:
    return math.inf if rank is None else float(rank)


def _fmt_rank(rank: int | None) -> str:
    return "miss" if rank is None else f"#{rank}"


def compare_case(a: CaseResult, b: CaseResult) -> CaseChange:
    ra, rb = _rank_key(a.rank), _rank_key(b.rank)
    change: Change = "same"
    why = ""
    if rb > ra:
        change, why = "regressed", f"truth service {_fmt_rank(a.rank)} -> {_fmt_rank(b.rank)}"
    elif rb < ra:
        change, why = "improved", f"truth service {_fmt_rank(a.rank)} -> {_fmt_rank(b.rank)}"
    elif a.fault_correct != b.fault_correct:
        change = "regressed" if a.fault_correct else "improved"
        why = f"fault {a.predicted_fault} -> {b.predicted_fault} (truth {b.truth_fault or a.truth_fault})"
    if b.error and not a.error:
        why = f"{why}; error: {b.error}".lstrip("; ")
    return CaseChange(id=b.id, change=change, rank_a=a.rank, rank_b=b.rank, fault_a=a.predicted_fault,
                      fault_b=b.predicted_fault, truth_service=b.truth_service or a.truth_service,
                      truth_fault=b.truth_fault or a.truth_fault, error_b=b.error, why=why)


def compare(a: SuiteResult, b: SuiteResult, *, label_a: str = "A", label_b: str = "B") -> Comparison:
    """Score deltas and case-by-case changes from ``a`` to ``b``."""
    sa, sb = a.scores(), b.scores()
    scores = [ScoreDelta(name=k, a=sa[k], b=sb[k]) for k in sa]
    scores.append(ScoreDelta(name="mean_seconds", a=a.mean_seconds, b=b.mean_seconds))
    scores.append(ScoreDelta(name="mean_tokens", a=a.mean_tokens, b=b.mean_tokens))
    by_a = {c.id: c for c in a.per_case}
    by_b = {c.id: c for c in b.per_case}
    cases = [compare_case(by_a[i], by_b[i]) for i in sorted(by_a.keys() & by_b.keys())]
    return Comparison(a=label_a, b=label_b, scores=scores, cases=cases,
                      only_in_a=sorted(by_a.keys() - by_b.keys()),
                      only_in_b=sorted(by_b.keys() - by_a.keys()))


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def render_comparison(c: Comparison) -> str:
    """Plain text for a terminal: score deltas, then regressions and improvements."""
    lines = [f"A = {c.a}", f"B = {c.b}", "", f"{'score':<22}{'A':>8}{'B':>8}{'delta':>9}"]
    for s in c.scores:
        d = s.delta
        lines.append(f"{s.name:<22}{_num(s.a):>8}{_num(s.b):>8}{'-' if d is None else f'{d:+.3f}':>9}")
    for title, group in (("regressions", c.regressions), ("improvements", c.improvements)):
        lines += ["", f"{title} ({len(group)}):"]
        lines += [f"  {x.id}: {x.why} [truth {x.truth_service}/{x.truth_fault}]" for x in group] or ["  none"]
    same = len(c.cases) - len(c.regressions) - len(c.improvements)
    lines += ["", f"unchanged: {same}"]
    if c.only_in_a:
        lines.append(f"only in A ({len(c.only_in_a)}): {', '.join(c.only_in_a)}")
    if c.only_in_b:
        lines.append(f"only in B ({len(c.only_in_b)}): {', '.join(c.only_in_b)}")
    return "\n".join(lines)
