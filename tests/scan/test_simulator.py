from __future__ import annotations

from pathlib import Path

import yaml

from day2ai.scan.sim import simulate_history
from day2ai.scan.sim.plan import make_plan


def test_same_seed_same_history_and_rewrites_leave_nothing_behind(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    simulate_history(a, 5, days=14, step=3600)
    simulate_history(b, 5, days=14, step=3600)
    for name in ("truth.yaml", "site.yaml", "incidents.jsonl", "alerts.jsonl", "metrics.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    simulate_history(a, 6, days=14, step=3600, compress=True)
    assert not (a / "metrics.jsonl").exists() and (a / "metrics.jsonl.gz").exists()
    runbooks = {p.stem for p in (a / "knowledge" / "runbooks").glob("*.md")}
    site = yaml.safe_load((a / "site.yaml").read_text())
    assert runbooks == {s["name"] for s in site["services"] if "runbook" in s}


def test_plans_differ_by_seed_and_truth_covers_every_kind() -> None:
    kinds = {f["kind"] for f in make_plan(1).truth}
    assert len(kinds) == 10
    assert make_plan(1).roles != make_plan(2).roles
