"""A simulator of ops histories with planted findings, decoys and a truth.yaml (evaluation only).

The health figures in truth.yaml are computed here from the generated events with their own
straightforward code (not with :mod:`day2ai.scan.health`), so the evaluation can catch a wrong scan.
"""

from __future__ import annotations

import gzip
import shutil
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import yaml

from day2ai.scan.sim.events import alerts, changes, deployment, incidents, live_object, runbook
from day2ai.scan.sim.metrics import metric_items
from day2ai.scan.sim.plan import Plan, alert_name, make_plan
from day2ai.timeutil import iso, parse_timestamp

__all__ = ["Plan", "make_plan", "simulate_history"]
TZ = "Europe/Berlin"


def _gap_kinds(plan: Plan, rng: np.random.Generator) -> dict[str, str]:
    alerting = {s for r in ("noisy", "flapping", "alert_acked_often", "alert_rare") for s in plan.role(r)}
    stale = set(plan.role("stale_runbook") + plan.role("stale_metric"))
    out = {}
    for s in plan.role("gap"):
        kinds = ["traces", "logs"] + (["alerts"] if s not in alerting else []) + (["runbook"] if s not in stale else [])
        out[s] = str(rng.choice(kinds))
    return out


def _site(plan: Plan, gaps: dict[str, str]) -> dict[str, Any]:
    services = []
    for s in plan.names:
        svc: dict[str, Any] = {"name": s, "team": f"{s}-team", "tier": plan.tiers[s],
                               "runbook": f"runbooks/{s}.md", "alerts": [alert_name(s, "errors")],
                               "depends_on": plan.depends_on[s],
                               "resources": {"replicas": plan.replicas[s], "cpu_request_cores": plan.cpu_request[s],
                                             "memory_request_bytes": int(plan.mem_request[s])},
                               "telemetry": ["metrics", "logs", "traces"]}
        gap = gaps.get(s)
        if gap in ("traces", "logs"):
            svc["telemetry"].remove(gap)
        elif gap == "alerts":
            svc["alerts"] = []
        elif gap == "runbook":
            del svc["runbook"]
        services.append(svc)
    return {"name": f"sim-{plan.seed}", "period": {"start": iso(plan.start), "end": iso(plan.end)},
            "oncall": {"timezone": TZ, "night": "22:00-07:00"},
            "prices": {"cpu_core_hour": 0.031, "memory_gib_hour": 0.0042}, "services": services}


def _med(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 6) if xs else None


def health_truth(plan: Plan, incs: list[dict[str, Any]], chs: list[dict[str, Any]],
                 als: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of ops-history.md over the whole period, computed directly from the events."""
    days = plan.days
    ts = {k: [parse_timestamp(i[k]) if k in i else None for i in incs]
          for k in ("opened_at", "acknowledged_at", "resolved_at")}
    opened, acked, resolved = ts["opened_at"], ts["acknowledged_at"], ts["resolved_at"]
    prod = [c for c in chs if c["kind"] == "deploy" and c.get("environment", "production") == "production"]
    caused = {i["change_id"] for i in incs if "change_id" in i}
    tz = ZoneInfo(TZ)
    pages = [a for a in als if a["severity"] == "page"]

    def night(a: dict[str, Any]) -> bool:
        h = datetime.fromtimestamp(parse_timestamp(a["fired_at"]), tz).hour
        return h >= 22 or h < 7

    return {
        "incidents": len(incs),
        "mtta_minutes_median": _med([(b - a) / 60 for a, b in zip(opened, acked, strict=True) if a and b]),
        "mttr_minutes_median": _med([(b - a) / 60 for a, b in zip(opened, resolved, strict=True) if a and b]),
        "deploys_per_day": round(len(prod) / days, 6),
        "lead_time_hours_median": _med([(c["timestamp"] - c["first_commit_at"]) / 3600 for c in prod]),
        "change_failure_rate": round(sum(1 for c in prod if c["id"] in caused) / len(prod), 6),
        "failed_deployment_recovery_hours_median": _med(
            [(parse_timestamp(i["resolved_at"]) - parse_timestamp(i["opened_at"])) / 3600
             for i in incs if "change_id" in i]),
        "alerts_per_week": round(len(als) / (days / 7), 6),
        "pages": len(pages),
        "night_pages": sum(1 for a in pages if night(a)),
        "unactioned_alert_ratio": round(sum(1 for a in als if not a["acknowledged"] and "incident_id" not in a)
                                        / len(als), 6),
    }


def _jsonl(path: Path, rows: Any, compress: bool = False) -> None:
    with gzip.open(str(path) + ".gz", "wb", compresslevel=3) if compress else open(path, "wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")


def simulate_history(out: str | Path, seed: int, services: int = 12, days: int = 42, step: int = 300,
                     compress: bool = False) -> Plan:
    """Write one ops history (with truth.yaml) into ``out``; same seed, same history."""
    root = Path(out)
    plan = make_plan(seed, services=services, days=days, step=step)
    rng = np.random.default_rng(seed + 2)
    gaps = _gap_kinds(plan, rng)
    silent = {s for s, k in gaps.items() if k == "alerts"}
    for old in ("config", "knowledge"):  # rewriting a history: leave nothing of the previous one behind
        if (root / old).is_dir():
            shutil.rmtree(root / old)
    for name in ("metrics.jsonl", "metrics.jsonl.gz"):
        (root / name).unlink(missing_ok=True)
    for sub in ("config/desired", "config/live", "knowledge/runbooks", "knowledge/postmortems"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(yaml.safe_dump(_site(plan, gaps), sort_keys=False))
    _jsonl(root / "metrics.jsonl", metric_items(plan), compress)
    chs = changes(plan, rng)
    incs = incidents(plan, rng, chs)
    als = alerts(plan, rng, incs, silent)
    _jsonl(root / "changes.jsonl", chs)
    _jsonl(root / "incidents.jsonl", incs)
    _jsonl(root / "alerts.jsonl", als)
    for s in plan.names:
        desired = deployment(plan, s)
        (root / "config/desired" / f"{s}.yaml").write_text(yaml.safe_dump(desired, sort_keys=False))
        live = live_object(plan, desired, rng)
        (root / "config/live" / f"{s}.yaml").write_text(yaml.safe_dump(live, sort_keys=False))
        if gaps.get(s) != "runbook":
            text = runbook(plan, s, ["request_rate", "cpu_usage_cores"])
            (root / "knowledge/runbooks" / f"{s}.md").write_text(text)
    for inc in incs:
        if "postmortem" in inc:
            (root / "knowledge" / inc["postmortem"]).write_text(f"# Postmortem {inc['id']}\n\n{inc['title']}\n")
    truth = {"findings": plan.truth, "health": health_truth(plan, incs, chs, als)}
    (root / "truth.yaml").write_text(yaml.safe_dump(truth, sort_keys=False))
    return plan
