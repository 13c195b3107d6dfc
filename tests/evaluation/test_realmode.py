"""The simulator's real-data mode: the shapes of public real-incident datasets, and a floor on them."""

import gzip
import json
from pathlib import Path

import pytest
import yaml

from day2ai.agent.offline import OfflineInvestigator
from day2ai.evaluation.simulator import simulate
from day2ai.evaluation.simulator.realmode import downsample, strip_status, to_real_mode
from day2ai.sources.bundle import load_bundle, read_truth
from day2ai.timeutil import parse_timestamp

SMALL = {"scale": 0.25, "n_components": 8, "window_minutes": 30}


def _rows(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _one(case: Path, stem: str) -> Path:
    return next(p for p in case.iterdir() if p.name.startswith(stem + ".jsonl"))


def test_downsample_and_strip_status() -> None:
    assert downsample([[0, "1"], [15, "2"], [59, "3"], [60, "4"], [130, "5"]]) == [[0, "3"], [60, "4"], [120, "5"]]
    span = {"span_id": "a", "status": "error", "attributes": {"http.status_code": 500, "error": True, "peer": "db"}}
    assert strip_status(span) == {"span_id": "a", "attributes": {"peer": "db"}}


def test_real_mode_reshapes_a_bundle(tmp_path: Path) -> None:
    (case,) = simulate(tmp_path, 1, 3, **SMALL)
    w0 = parse_timestamp(yaml.safe_load((case / "incident.yaml").read_text())["window"]["start"])
    to_real_mode(case)
    incident = yaml.safe_load((case / "incident.yaml").read_text())
    b0, b1 = parse_timestamp(incident["baseline"]["start"]), parse_timestamp(incident["baseline"]["end"])
    detected = parse_timestamp(incident["detected_at"])
    assert b1 - b0 == 60.0 and detected - b1 > 300.0  # one minute, not adjacent
    # the minute ends a fault-free capture that starts two minutes before the declared window
    assert parse_timestamp(incident["window"]["start"]) == b0 == w0 + 120.0
    assert not (case / "topology.yaml").exists() and not list(case.glob("changes.jsonl*"))
    for row in _rows(_one(case, "metrics")):
        steps = {b[0] - a[0] for a, b in zip(row["values"], row["values"][1:], strict=False)}
        assert steps <= {60} or not steps
    for row in _rows(_one(case, "logs")):
        t = parse_timestamp(row["timestamp"])
        assert w0 <= t < b1 or detected - 90.0 <= t < detected + 150.0
    assert min(parse_timestamp(r["timestamp"]) for r in _rows(_one(case, "logs"))) < b0
    assert all("status" not in s for s in _rows(_one(case, "traces")))


@pytest.mark.slow
async def test_offline_investigator_on_a_small_real_mode_suite(tmp_path: Path) -> None:
    paths = simulate(tmp_path, 6, 2027, **SMALL)
    hits = 0
    for case in paths:
        to_real_mode(case)
        bundle = load_bundle(case)
        truth = read_truth(case)
        report = await OfflineInvestigator().investigate(bundle.incident, bundle.sources)
        assert truth is not None
        hits += truth.root_cause.service in report.ranked_services()[:3]
        assert any(n.startswith("Baseline of metrics") for n in report.notes)
    # a modest floor: 8 components, so guessing three gives ~3/8
    assert hits / len(paths) >= 0.5
