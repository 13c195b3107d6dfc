"""Simulated histories through the whole scan: the CLI contract, the public API and the scores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import day2ai
from day2ai.cli import main
from day2ai.scan.evaluate import evaluate_histories, within
from day2ai.scan.sim import simulate_history

FINDING_KEYS = {"id", "kind", "service", "severity", "summary", "evidence", "recommendation"}
HEALTH_KEYS = {"incidents", "mtta_minutes_median", "mttr_minutes_median", "deploys_per_day", "lead_time_hours_median",
               "change_failure_rate", "failed_deployment_recovery_hours_median", "alerts_per_week", "pages",
               "night_pages", "unactioned_alert_ratio", "halves"}


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("histories")
    for seed in (101, 102):  # seeds outside the dev and held-out sets
        simulate_history(root / f"seed-{seed}", seed, services=12, days=28, step=1800)
    return root


def test_scan_json_follows_the_contract(histories: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(histories / "seed-101"), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"site", "period", "findings", "health", "gaps", "usage"} <= set(out)
    assert out["findings"] and all(set(f) >= FINDING_KEYS for f in out["findings"])
    assert [f["id"] for f in out["findings"]] == [f"f{i}" for i in range(1, len(out["findings"]) + 1)]
    assert set(out["health"]) >= HEALTH_KEYS and len(out["health"]["halves"]) == 2
    drift = [f for f in out["findings"] if f["kind"] == "config_drift"]
    assert drift and all({"object", "fields", "security"} <= set(f) for f in drift)
    assert all("peer" not in f for f in out["findings"] if f["kind"] != "degrading_dependency")


def test_scan_markdown_and_bad_input(histories: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(histories / "seed-101"), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Operational review")
    assert main(["scan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "site.yaml" in err and "Traceback" not in err
    (tmp_path / "site.yaml").write_text("name: x\nperiod: {start: 2026-01-01, end: 2026-01-02}\n")
    (tmp_path / "alerts.jsonl").write_text('{"alert": "A"}\n')
    assert main(["scan", str(tmp_path)]) == 2
    assert "alerts.jsonl:1: service: required field is missing" in capsys.readouterr().err


def test_public_api_sync_and_async(histories: Path) -> None:
    report = day2ai.scan(histories / "seed-102")
    again = asyncio.run(day2ai.ascan(histories / "seed-102"))
    assert [f.model_dump(exclude={"remediation"}) for f in report.findings] == \
        [f.model_dump(exclude={"remediation"}) for f in again.findings]
    actions = [f.remediation for f in report.findings if f.kind in ("overprovisioned", "idle_resource", "config_drift")]
    assert actions and all(r is not None and r.requires_approval for r in actions)


def test_simulated_histories_score_above_target(histories: Path) -> None:
    result = evaluate_histories(histories)
    assert result["errors"] == 0
    assert result["recall"] >= 0.9 and result["precision"] >= 0.9, result["per_history"]
    assert result["health_within_1pct"] == 1.0


def test_scan_eval_cli_writes_results(histories: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["scan-eval", str(histories / "seed-101"), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["histories"] == 1 and set(data["per_kind"]) >= {"capacity_exhaustion", "config_drift"}


def test_within_one_percent() -> None:
    assert within(100.5, 100.0) and not within(101.5, 100.0)
    assert within(None, None) and not within(0.1, None) and within(0.0, 0.0)


async def test_remediations_need_an_approval(histories: Path) -> None:
    from day2ai.approval import apply_remediation
    from day2ai.errors import ApprovalRequired

    report = await day2ai.ascan(histories / "seed-101")
    remediation = next(f.remediation for f in report.findings if f.remediation is not None)
    ran: list[str] = []

    async def execute(r: object) -> None:
        ran.append("ran")

    with pytest.raises(ApprovalRequired):
        await apply_remediation(remediation, execute)
    assert ran == []


def test_text_and_html_to_file(histories: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(histories / "seed-101")]) == 0
    assert "health:" in capsys.readouterr().out
    page = tmp_path / "r.html"
    assert main(["scan", str(histories / "seed-101"), "--format", "html", "--out", str(page)]) == 0
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert main(["scan", str(histories / "seed-101"), "--config", "x.yaml"]) == 2
