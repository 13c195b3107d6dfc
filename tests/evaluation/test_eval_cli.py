"""``day2ai eval SUITE --out R.json`` and ``day2ai eval compare A.json B.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from day2ai.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _scores(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    for case in data["per_case"]:
        case.pop("seconds")
    return {k: v for k, v in data.items() if "seconds" not in k}


def test_eval_writes_contract_json_markdown_and_is_repeatable(
        eval_suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r1, r2, md = tmp_path / "r1.json", tmp_path / "r2.json", tmp_path / "r.md"
    code, _, err = run(capsys, "eval", str(eval_suite), "--investigator", "loudest", "--out", str(r1),
                       "--markdown", str(md), "--concurrency", "2")
    assert code == 0, err
    assert "c3-victim: rank 3" in err and "AC@1 0.750" in err
    data = json.loads(r1.read_text())
    assert data["cases"] == 4 and data["ac@1"] == 0.75 and data["investigator"] == "loudest"
    for key in ("ac@3", "ac@5", "avg@5", "fault_accuracy", "per_fault", "confusion", "remediation_hit_rate",
                "grounding_rate", "mean_seconds", "median_seconds"):
        assert key in data
    assert md.read_text().startswith("# Evaluation: loudest") and md.with_suffix(".png").is_file()
    code, _, _ = run(capsys, "eval", "run", str(eval_suite), "--investigator", "loudest", "-q", "-o", str(r2))
    assert code == 0 and _scores(r1) == _scores(r2)


def test_eval_prints_json_without_out(eval_suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(eval_suite), "--investigator", "random", "--seed", "3", "-q")
    assert code == 0 and json.loads(out)["investigator"] == "random:3"


def test_eval_bad_input_exits_2_with_one_line(tmp_path: Path, eval_suite: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", str(tmp_path / "nope"), "--out", str(tmp_path / "r.json"))
    assert code == 2 and "not a suite directory" in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "eval", str(eval_suite), "--investigator", "random", "--model", "gpt-4o-mini")
    assert code == 2 and "--model" in err
    for bad in (["--concurrency", "0"], ["--investigator", "psychic"], ["--timeout", "soon"]):
        code, out, err = run(capsys, "eval", str(eval_suite), *bad)
        assert code == 2 and bad[0] in err and "Traceback" not in err + out, bad


def test_min_ac1_gate(eval_suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "r.json")
    assert run(capsys, "eval", str(eval_suite), "--investigator", "loudest", "-q", "-o", out,
               "--min-ac1", "0.7")[0] == 0
    code, _, err = run(capsys, "eval", str(eval_suite), "--investigator", "loudest", "-q", "-o", out,
                       "--min-ac1", "0.9")
    assert code == 1 and "below --min-ac1" in err


def test_compare_shows_case_regressions(eval_suite: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    loud, rand = tmp_path / "loud.json", tmp_path / "rand.json"
    run(capsys, "eval", str(eval_suite), "--investigator", "loudest", "-q", "-o", str(loud))
    run(capsys, "eval", str(eval_suite), "--investigator", "random", "-q", "-o", str(rand))
    expected = sum(1 for a, b in zip(json.loads(loud.read_text())["per_case"],
                                     json.loads(rand.read_text())["per_case"], strict=True)
                   if (b["rank"] or 99) > (a["rank"] or 99) or (a["fault_correct"] and not b["fault_correct"]
                                                               and a["rank"] == b["rank"]))
    code, out, _ = run(capsys, "eval", "compare", str(loud), str(rand))
    assert code == 0 and f"regressions ({expected}):" in out and "ac@1" in out
    code, out, _ = run(capsys, "eval", "compare", str(loud), str(rand), "--format", "json")
    data = json.loads(out)
    assert code == 0 and len(data["regressions"]) == expected
    assert next(s for s in data["scores"] if s["name"] == "ac@1")["a"] == 0.75
    code, _, err = run(capsys, "eval", "compare", str(loud), str(rand), "--fail-on-regression")
    assert code == (1 if expected else 0)
    assert run(capsys, "eval", "compare", str(loud), str(loud), "--fail-on-regression")[0] == 0
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    code, _, err = run(capsys, "eval", "compare", str(loud), str(bad))
    assert code == 2 and "bad.json" in err
