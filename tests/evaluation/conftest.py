"""Fixtures of the evaluation tests: tiny hand-made bundles and suites in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

T0 = 1_773_483_000  # 2026-03-14T10:10:00Z
STEP = 15
POINTS = 40  # 10 minutes; the incident starts half way
DETECTED = T0 + STEP * (POINTS // 2 + 2)

BundleFactory = Callable[..., Path]


def _series(name: str, service: str, before: float, after: float) -> dict[str, object]:
    values = [[T0 + i * STEP, str(before if i < POINTS // 2 else after)] for i in range(POINTS)]
    return {"metric": {"__name__": name, "service": service}, "values": values}


def write_bundle(
    root: Path,
    case_id: str,
    *,
    truth_service: str | None = "payments",
    truth_fault: str = "cpu_saturation",
    remediation: list[str] | None = None,
    loud: dict[str, tuple[float, float]] | None = None,
    services: tuple[str, ...] = ("frontend", "checkout", "payments", "catalog"),
) -> Path:
    """A bundle whose latency rises by ``loud[service] = (before, after)`` (others stay flat)."""
    path = root / case_id
    path.mkdir(parents=True)
    incident = {
        "id": case_id, "title": f"incident {case_id}", "detected_at": DETECTED,
        "window": {"start": T0, "end": T0 + STEP * (POINTS - 1)},
        "symptom": {"service": "frontend", "description": "p99 latency high"},
    }
    (path / "incident.yaml").write_text(yaml.safe_dump(incident), encoding="utf-8")
    loud = loud if loud is not None else {truth_service or "payments": (0.1, 1.5)}
    lines = []
    for svc in services:
        before, after = loud.get(svc, (0.1, 0.1))
        lines.append(json.dumps(_series("request_latency_p99_seconds", svc, before, after)))
        lines.append(json.dumps(_series("cpu_usage_ratio", svc, 0.3, 0.3)))
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if truth_service is not None:
        truth = {"root_cause": {"service": truth_service, "fault": truth_fault},
                 "remediation": remediation or []}
        (path / "truth.yaml").write_text(yaml.safe_dump(truth), encoding="utf-8")
    return path


@pytest.fixture
def make_eval_bundle(tmp_path: Path) -> BundleFactory:
    def make(case_id: str, **kwargs: object) -> Path:
        return write_bundle(tmp_path / "suite", case_id, **kwargs)  # type: ignore[arg-type]
    return make


@pytest.fixture
def eval_suite(tmp_path: Path) -> Path:
    """Four cases: two where the culprit is loudest, one where a victim is louder, one fault word apart."""
    root = tmp_path / "suite"
    write_bundle(root, "c1-payments", truth_service="payments", truth_fault="cpu_saturation",
                 remediation=["scale"], loud={"payments": (0.1, 2.0)})
    write_bundle(root, "c2-catalog", truth_service="catalog", truth_fault="network_delay",
                 loud={"catalog": (0.05, 0.9)})
    write_bundle(root, "c3-victim", truth_service="payments", truth_fault="memory_leak",
                 loud={"frontend": (0.2, 3.0), "checkout": (0.2, 2.0), "payments": (0.1, 0.2)})
    write_bundle(root, "c4-checkout", truth_service="checkout", truth_fault="code_error",
                 remediation=["rollback"], loud={"checkout": (0.1, 0.6)})
    return root
