"""The harness: suites, concurrency, timeouts, failures as scored misses, determinism."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from day2ai.errors import InputError
from day2ai.evaluation import harness
from day2ai.evaluation.baselines import LoudestSymptomInvestigator, RandomInvestigator
from day2ai.evaluation.harness import aevaluate, discover_cases, evaluate
from day2ai.models import Fault, Hypothesis, Incident, Report
from day2ai.sources.base import Sources


class Scripted:
    """Answers ``answers[incident.id]`` (a service, an exception, or 'sleep')."""

    name = "scripted"

    def __init__(self, answers: dict[str, Any], events: list[str] | None = None):
        self.answers = answers
        self.events = events if events is not None else []
        self.running = 0
        self.max_running = 0

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: Any = None) -> Report:
        self.events.append(f"investigate:{incident.id}")
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(0.01)
            answer = self.answers.get(incident.id, "nobody")
            if isinstance(answer, BaseException):
                raise answer
            if answer == "sleep":
                await asyncio.sleep(30)
            hyp = Hypothesis(service=answer, fault=Fault.CPU_SATURATION, confidence=0.9, summary="s")
            return Report(incident=incident, investigator=self.name, hypotheses=[hyp])
        finally:
            self.running -= 1


def test_discover_cases_sorted_and_bad_input(tmp_path: Path, eval_suite: Path) -> None:
    (eval_suite / "not-a-bundle").mkdir()
    (eval_suite / "README.md").write_text("x")
    names = [p.name for p in discover_cases(eval_suite)]
    assert names == ["c1-payments", "c2-catalog", "c3-victim", "c4-checkout"]
    with pytest.raises(InputError, match="not a suite"):
        discover_cases(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no bundles"):
        discover_cases(tmp_path / "empty")


def test_loudest_scores_suite(eval_suite: Path) -> None:
    result = evaluate(eval_suite, LoudestSymptomInvestigator())
    by_id = {c.id: c for c in result.per_case}
    assert by_id["c1-payments"].rank == 1 and by_id["c2-catalog"].rank == 1
    assert by_id["c3-victim"].rank == 3  # frontend and checkout shout louder than the culprit
    assert by_id["c3-victim"].ranked_services[:2] == ["frontend", "checkout"]
    assert result.ac_at_1 == 0.75 and result.ac_at_3 == 1.0
    assert result.investigator == "loudest" and result.errors == 0
    assert result.grounding_rate == 1.0


def test_same_scores_twice_and_whatever_the_concurrency(eval_suite: Path) -> None:
    def scores(concurrency: int, inv: Any) -> list[Any]:
        data = evaluate(eval_suite, inv, concurrency=concurrency).to_json()
        for case in data["per_case"]:
            case.pop("seconds")
        return [{k: v for k, v in data.items() if "seconds" not in k}]

    for inv in (RandomInvestigator(), LoudestSymptomInvestigator()):
        assert scores(1, inv) == scores(1, inv) == scores(3, inv)


async def test_failures_are_scored_misses(make_eval_bundle: Any) -> None:
    make_eval_bundle("ok", truth_service="payments")
    make_eval_bundle("raises", truth_service="payments", remediation=["rollback"])
    make_eval_bundle("slow", truth_service="payments")
    make_eval_bundle("no-truth", truth_service=None)
    broken = make_eval_bundle("broken", truth_service="payments")
    (broken / "incident.yaml").write_text("id: broken\ntitle: [unclosed\n")
    bad_truth = make_eval_bundle("bad-truth", truth_service="payments")
    (bad_truth / "truth.yaml").write_text("root_cause: {service: payments, fault: gremlins}\n")
    suite = broken.parent
    inv = Scripted({"ok": "payments", "raises": RuntimeError("tool exploded\nsecond line"), "slow": "sleep",
                    "no-truth": "payments", "bad-truth": "payments"})
    result = await aevaluate(suite, inv, timeout=0.5, concurrency=2)
    by_id = {c.id: c for c in result.per_case}
    assert result.cases == 6 and result.errors == 5
    assert by_id["ok"].rank == 1 and by_id["ok"].error is None
    assert by_id["raises"].error == "RuntimeError: tool exploded"
    assert by_id["raises"].truth_service == "payments" and by_id["raises"].remediation_hit is False
    assert "timed out" in (by_id["slow"].error or "")
    assert "truth.yaml is missing" in (by_id["no-truth"].error or "")
    assert by_id["no-truth"].rank is None  # an answer without a truth is not a hit
    assert "truth.yaml" in (by_id["bad-truth"].error or "") and "fault" in (by_id["bad-truth"].error or "")
    assert "incident.yaml" in (by_id["broken"].error or "")
    assert by_id["broken"].truth_fault == "cpu_saturation"
    assert result.ac_at_1 == round(1 / 6, 4)


async def test_concurrency_is_bounded(eval_suite: Path) -> None:
    inv = Scripted({})
    await aevaluate(eval_suite, inv, concurrency=2)
    assert inv.max_running == 2
    inv1 = Scripted({})
    await aevaluate(eval_suite, inv1, concurrency=1)
    assert inv1.max_running == 1


async def test_truth_is_read_only_after_the_investigation(eval_suite: Path, monkeypatch: Any) -> None:
    events: list[str] = []
    real = harness.read_truth

    def spy(path: Any) -> Any:
        events.append(f"truth:{Path(path).name}")
        return real(path)

    monkeypatch.setattr(harness, "read_truth", spy)
    await aevaluate(eval_suite, Scripted({}, events), concurrency=4)
    for case in ("c1-payments", "c2-catalog", "c3-victim", "c4-checkout"):
        assert events.index(f"investigate:{case}") < events.index(f"truth:{case}")


async def test_bad_options_and_explicit_case_list(eval_suite: Path) -> None:
    with pytest.raises(InputError):
        await aevaluate(eval_suite, Scripted({}), concurrency=0)
    with pytest.raises(InputError):
        await aevaluate(eval_suite, Scripted({}), timeout=0)
    seen: list[str] = []
    result = await aevaluate([eval_suite / "c2-catalog"], Scripted({"c2-catalog": "catalog"}),
                             on_case=lambda c: seen.append(c.id))
    assert seen == ["c2-catalog"] and result.ac_at_1 == 1.0


def test_evaluate_works_inside_a_running_loop(eval_suite: Path) -> None:
    async def inner() -> float:
        return evaluate(eval_suite, LoudestSymptomInvestigator()).ac_at_1  # Jupyter-style call

    assert asyncio.run(inner()) == 0.75


def test_evaluate_scores_the_offline_investigator_by_default(eval_suite: Path) -> None:
    result = evaluate(eval_suite)
    assert result.investigator == "offline"
    assert result.cases == len(discover_cases(eval_suite))
    assert result.errors == 0
