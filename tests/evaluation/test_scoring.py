"""Pure scoring: ranks, AC@k, Avg@k, fault accuracy, grounding, remediation hits, breakdowns."""

from __future__ import annotations

import pytest

from day2ai.evaluation.results import SuiteResult
from day2ai.evaluation.scoring import (
    aggregate,
    avg_at,
    confusion,
    is_grounded,
    miss_case,
    rank_of,
    remediation_hit,
    score_case,
)
from day2ai.models import (
    Evidence,
    EvidenceSource,
    Fault,
    Hypothesis,
    Incident,
    Remediation,
    Report,
    Truth,
    Usage,
)

INCIDENT = Incident(id="x", title="t", detected_at=100, window={"start": 0, "end": 200})


def hyp(service: str, fault: Fault = Fault.CPU_SATURATION, supporting: tuple[str, ...] = ("e1",),
        actions: tuple[str, ...] = (), contradicting: tuple[str, ...] = ()) -> Hypothesis:
    return Hypothesis(service=service, fault=fault, confidence=0.5, summary="s", supporting=list(supporting),
                      contradicting=list(contradicting),
                      remediations=[Remediation(action=a, rationale="because") for a in actions])


def report(*hyps: Hypothesis, evidence: tuple[str, ...] = ("e1", "e2"), tokens: int = 0) -> Report:
    ev = [Evidence(id=i, source=EvidenceSource.METRICS, query="q", summary="s") for i in evidence]
    return Report(incident=INCIDENT, investigator="test", hypotheses=list(hyps), evidence=ev,
                  usage=Usage(tokens_in=tokens, tokens_out=1 if tokens else 0, tool_calls=3))


def truth(service: str, fault: Fault = Fault.CPU_SATURATION, remediation: tuple[str, ...] = ()) -> Truth:
    return Truth.model_validate({"root_cause": {"service": service, "fault": fault},
                                 "remediation": list(remediation)})


def test_rank_is_position_among_distinct_services_case_insensitive() -> None:
    r = report(hyp("a"), hyp("a", Fault.MEMORY_LEAK), hyp("B"), hyp("c"))
    assert r.ranked_services() == ["a", "B", "c"]
    assert rank_of("b", r.ranked_services()) == 2
    assert rank_of(" c ", r.ranked_services()) == 3
    assert rank_of("d", r.ranked_services()) is None


def test_score_case_fields() -> None:
    c = score_case("x", report(hyp("pay", Fault.MEMORY_LEAK), hyp("db"), tokens=40), truth("db"), 1.23456)
    assert (c.rank, c.predicted_fault, c.predicted_service) == (2, "memory_leak", "pay")
    assert not c.fault_correct
    assert c.seconds == 1.235 and c.tokens == 41 and c.tool_calls == 3
    c1 = score_case("y", report(hyp("db")), truth("db"), 0.1)
    assert c1.rank == 1 and c1.fault_correct
    wrong_fault = score_case("z", report(hyp("db", Fault.DISK_FULL)), truth("db"), 0.1)
    assert wrong_fault.rank == 1 and not wrong_fault.fault_correct


def test_ac_and_avg_at_k_by_hand() -> None:
    ranks = [1, 2, 3, None, 5, 6]
    cases = [score_case(f"c{i}", report(*[hyp(f"s{j}") for j in range(1, 7)]),
                        truth(f"s{r}" if r else "nowhere"), 0.0) for i, r in enumerate(ranks)]
    assert [c.rank for c in cases] == ranks
    result = aggregate(cases)
    assert result.ac_at_1 == round(1 / 6, 4)
    assert result.ac_at_3 == 0.5
    assert result.ac_at_5 == round(4 / 6, 4)
    expected_avg5 = (1 / 6 + 2 / 6 + 3 / 6 + 3 / 6 + 4 / 6) / 5
    assert result.avg_at_5 == pytest.approx(expected_avg5, abs=1e-3)
    assert avg_at([], 5) == 0.0


def test_grounding_rules() -> None:
    ids = {"e1", "e2"}
    assert is_grounded(hyp("a", supporting=("e1",)), ids)
    assert not is_grounded(hyp("a", supporting=()), ids)  # cites nothing
    assert not is_grounded(hyp("a", supporting=("e1", "e9")), ids)  # one id does not exist
    assert not is_grounded(hyp("a", supporting=("e1",), contradicting=("e7",)), ids)
    r = report(hyp("a"), hyp("b", supporting=("nope",)), hyp("c", supporting=()))
    c = score_case("x", r, truth("a"), 0.0)
    assert (c.hypotheses, c.grounded_hypotheses) == (3, 1)
    result = aggregate([c, score_case("y", report(hyp("a")), truth("a"), 0.0)])
    assert result.grounding_rate == 0.5  # 2 of 4 hypotheses
    assert result.grounded_case_rate == 0.5  # one case fully grounded


def test_remediation_hit_uses_truth_service_hypotheses_else_top() -> None:
    t = truth("db", remediation=("Rollback", "pool size"))
    assert remediation_hit(report(hyp("db", actions=("ROLLBACK v2",))), t) is True
    other_first = report(hyp("x", actions=("rollback",)), hyp("db", actions=("restart",)))
    assert remediation_hit(other_first, t) is False  # only the truth service's remediations count
    assert remediation_hit(report(hyp("x", actions=("raise the pool size",))), t) is True  # top, db absent
    assert remediation_hit(report(hyp("x", actions=("restart",))), t) is False
    assert remediation_hit(report(hyp("db")), truth("db")) is None  # no words: not scored


def test_errors_are_misses_and_breakdowns() -> None:
    ok = score_case("a", report(hyp("db", Fault.DISK_FULL, actions=("free disk space",))),
                    truth("db", Fault.DISK_FULL, ("disk",)), 1.0)
    wrong = score_case("b", report(hyp("web", Fault.NETWORK_DELAY)), truth("db", Fault.DISK_FULL), 3.0)
    err = miss_case("c", "RuntimeError: boom", 2.0, truth("db", Fault.MEMORY_LEAK, ("memory",)))
    result = aggregate([wrong, err, ok], suite="s", investigator="i")
    assert [c.id for c in result.per_case] == ["a", "b", "c"]
    assert result.cases == 3 and result.errors == 1
    assert result.ac_at_1 == round(1 / 3, 4)
    assert result.fault_accuracy == round(1 / 3, 4)
    assert result.remediation_hit_rate == 0.5 and result.remediation_cases == 2
    assert result.per_fault["disk_full"].cases == 2 and result.per_fault["disk_full"].ac_at_1 == 0.5
    assert result.per_fault["memory_leak"].ac_at_1 == 0.0
    assert result.confusion == {"disk_full": {"disk_full": 1, "network_delay": 1}, "memory_leak": {"none": 1}}
    assert result.mean_seconds == 2.0 and result.median_seconds == 2.0
    assert confusion([]) == {}


def test_result_json_has_contract_keys_and_round_trips() -> None:
    result = aggregate([score_case("a", report(hyp("db")), truth("db"), 0.5),
                        miss_case("b", "boom", 0.1)])
    data = result.to_json()
    for key in ("cases", "ac@1", "ac@3", "ac@5", "avg@5", "fault_accuracy", "per_case",
                "per_fault", "confusion", "remediation_hit_rate", "grounding_rate", "mean_seconds",
                "median_seconds"):
        assert key in data
    for key in ("id", "truth_service", "truth_fault", "ranked_services", "predicted_fault", "rank",
                "seconds", "error", "tokens"):
        assert key in data["per_case"][0]
    assert data["per_case"][1]["error"] == "boom" and data["per_case"][1]["rank"] is None
    assert SuiteResult.model_validate(data) == result
