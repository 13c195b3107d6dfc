"""Evaluation over executors (identical scores), per-case timeouts, and broken cases as errors (#16, #19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from day2ai.cli import main
from day2ai.evaluation.baselines import LoudestSymptomInvestigator, RandomInvestigator
from day2ai.evaluation.harness import aevaluate, evaluate
from day2ai.evaluation.results import SuiteResult
from tests.agent.async_support import SpinInvestigator


def _scores(result: SuiteResult) -> dict[str, Any]:
    data = result.to_json()
    for case in data["per_case"]:
        case.pop("seconds")
    return {k: v for k, v in data.items() if "seconds" not in k}


@pytest.mark.parametrize("investigator", [LoudestSymptomInvestigator(), RandomInvestigator(seed=4)])
def test_worker_processes_give_the_same_scores(eval_suite: Path, investigator: Any) -> None:
    seen: list[str] = []
    pooled = evaluate(eval_suite, investigator, workers=2, on_case=lambda c: seen.append(c.id))
    assert _scores(pooled) == _scores(evaluate(eval_suite, investigator))
    assert sorted(seen) == sorted(c.id for c in pooled.per_case) and pooled.errors == 0


def test_a_case_with_dropped_data_is_an_error_not_a_hit(make_eval_bundle: Any) -> None:
    make_eval_bundle("fine", truth_service="payments")
    broken = make_eval_bundle("garbled", truth_service="payments")
    with (broken / "metrics.jsonl").open("ab") as fh:
        fh.write(b"\xff\xfe not json at all\n")
    for result in (evaluate(broken.parent, LoudestSymptomInvestigator()),
                   evaluate(broken.parent, LoudestSymptomInvestigator(), workers=2)):
        by_id = {c.id: c for c in result.per_case}
        assert by_id["fine"].rank == 1 and by_id["fine"].error is None
        assert by_id["garbled"].rank is None and "metrics.jsonl" in (by_id["garbled"].error or "")
        assert result.errors == 1 and result.ac_at_1 == 0.5


async def test_timeout_stops_a_computing_case_on_the_loop_and_in_workers(make_eval_bundle: Any) -> None:
    suite = make_eval_bundle("spin", truth_service="payments").parent
    make_eval_bundle("other", truth_service="payments")
    result = await aevaluate(suite, SpinInvestigator(60), timeout=1.5, concurrency=2)
    assert result.errors == 2 and all("TimeoutError" in (c.error or "") for c in result.per_case)
    assert max(c.seconds for c in result.per_case) < 30
    pooled = evaluate(suite, SpinInvestigator(60), timeout=1.5, workers=2)
    assert pooled.errors == 2 and all("TimeoutError" in (c.error or "") for c in pooled.per_case)


def test_cli_workers_and_timeout(eval_suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["eval", str(eval_suite), "--investigator", "loudest", "-q", "-o", str(a)]) == 0
    assert main(["eval", str(eval_suite), "--investigator", "loudest", "--workers", "2", "-o", str(b)]) == 0
    err = capsys.readouterr().err
    assert "c3-victim: rank 3" in err and "Traceback" not in err

    def scores(p: Path) -> list[Any]:
        return [(c["id"], c["rank"], c["error"]) for c in json.loads(p.read_text())["per_case"]]

    assert scores(a) == scores(b)
    assert main(["eval", str(eval_suite), "--timeout", "0.001", "-q", "-o", str(b)]) == 0
    data = json.loads(b.read_text())
    assert data["errors"] == data["cases"] and all("TimeoutError" in c["error"] for c in data["per_case"])
    assert all(c["rank"] is None for c in data["per_case"])
    assert main(["eval", str(eval_suite), "--workers", "-1"]) == 2
