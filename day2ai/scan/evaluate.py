"""Scoring scans against truth.yaml (ops-history.md): findings by precision and recall per kind,
health figures within 1%.

A truth finding is matched by a reported finding of the same ``kind`` and ``service`` (and
``object`` for drift). Recall is over the truth list, precision over what was reported; both per
kind and overall (micro-averaged). A health figure passes when it is within 1% of the truth (or
both are null, or both are zero).
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from day2ai.errors import BundleError
from day2ai.scan.models import FINDING_KINDS, Finding, ScanReport
from day2ai.sources.bundle import read_yaml_model

TOLERANCE = 0.01


class ScanTruth(BaseModel):
    findings: list[dict[str, Any]] = Field(default_factory=list)
    health: dict[str, float | None] = Field(default_factory=dict)


def read_scan_truth(path: str | Path) -> ScanTruth | None:
    p = Path(path) / "truth.yaml"
    return read_yaml_model(p, ScanTruth) if p.is_file() else None


def _key(kind: str, service: str, obj: str | None) -> tuple[str, str, str | None]:
    return kind, service, obj if kind == "config_drift" else None


def _matches(truth: dict[str, Any], f: Finding) -> bool:
    return _key(str(truth.get("kind")), str(truth.get("service")), truth.get("object")) == \
        _key(f.kind, f.service, f.object if truth.get("object") is not None else None)


def within(got: float | None, want: float | None, tolerance: float = TOLERANCE) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if want == 0:
        return abs(got) <= 1e-9
    return abs(got - want) <= tolerance * abs(want)


def score(report: ScanReport, truth: ScanTruth) -> dict[str, Any]:
    """Counts per kind (tp_truth, truth, tp_reported, reported) and the health check of one history."""
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"truth": 0, "found": 0, "reported": 0, "correct": 0})
    missed, spurious = [], []
    for t in truth.findings:
        k = kinds[str(t.get("kind"))]
        k["truth"] += 1
        if any(_matches(t, f) for f in report.findings):
            k["found"] += 1
        else:
            missed.append({x: t[x] for x in ("kind", "service", "object") if x in t})
    for f in report.findings:
        k = kinds[f.kind]
        k["reported"] += 1
        if any(_matches(t, f) for t in truth.findings):
            k["correct"] += 1
        else:
            spurious.append({"kind": f.kind, "service": f.service, "summary": f.summary})
    security = [(bool(t["security"]), bool(f.security)) for t in truth.findings if "security" in t
                for f in report.findings if f.kind == "config_drift" and _matches(t, f)]
    health = {}
    for name, want in truth.health.items():
        got = getattr(report.health, name, None)
        health[name] = {"truth": want, "got": got, "ok": within(got, want)}
    return {"kinds": dict(kinds), "missed": missed, "spurious": spurious, "health": health,
            "drift_security": {"agree": sum(a == b for a, b in security), "of": len(security)}}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def summarise(per_history: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision and recall per kind and overall, and the share of health figures within 1%."""
    totals: dict[str, dict[str, int]] = {k: {"truth": 0, "found": 0, "reported": 0, "correct": 0}
                                         for k in FINDING_KINDS}
    health_ok = health_n = sec_agree = sec_n = 0
    for h in per_history:
        sec_agree += h.get("drift_security", {}).get("agree", 0)
        sec_n += h.get("drift_security", {}).get("of", 0)
        for kind, c in h.get("kinds", {}).items():
            for key, value in c.items():
                totals.setdefault(kind, {"truth": 0, "found": 0, "reported": 0, "correct": 0})[key] += value
        for fig in h.get("health", {}).values():
            health_n += 1
            health_ok += bool(fig["ok"])
    per_kind = {k: {"recall": _ratio(c["found"], c["truth"]), "precision": _ratio(c["correct"], c["reported"]), **c}
                for k, c in totals.items()}
    all_ = {key: sum(c[key] for c in totals.values()) for key in ("truth", "found", "reported", "correct")}
    return {
        "histories": len(per_history),
        "errors": sum(1 for h in per_history if h.get("error")),
        "recall": _ratio(all_["found"], all_["truth"]), "precision": _ratio(all_["correct"], all_["reported"]),
        "health_within_1pct": _ratio(health_ok, health_n), "health_figures": health_n,
        "drift_security_agreement": _ratio(sec_agree, sec_n), "per_kind": per_kind,
    }


def history_dirs(root: str | Path) -> list[Path]:
    base = Path(root)
    if (base / "site.yaml").is_file():
        return [base]
    if not base.is_dir():
        raise BundleError(str(base), "not a directory of ops histories")
    return sorted(p for p in base.iterdir() if (p / "site.yaml").is_file())


def _truth_count(d: Path) -> int:
    """How many truth findings a failed history had (they count as missed); 0 if unreadable."""
    try:
        truth = read_scan_truth(d)
    except BundleError:
        return 0
    return len(truth.findings) if truth is not None else 0


def evaluate_histories(root: str | Path) -> dict[str, Any]:
    """Scan every history under ``root`` and score it; a history that fails is an error entry."""
    from day2ai.scan.engine import scan_path

    per: list[dict[str, Any]] = []
    for d in history_dirs(root):
        t0 = time.perf_counter()
        entry: dict[str, Any] = {"id": d.name}
        try:
            truth = read_scan_truth(d)
            if truth is None:
                raise BundleError(str(d / "truth.yaml"), "missing: cannot score without it")
            entry.update(score(scan_path(d), truth))
        except Exception as exc:  # a broken history is a scored failure, not the end of the run
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["kinds"] = {"_": {"truth": _truth_count(d), "found": 0, "reported": 0, "correct": 0}}
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        per.append(entry)
    return {**summarise(per), "per_history": per}
