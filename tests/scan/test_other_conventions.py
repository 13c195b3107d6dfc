"""A history written by hand with other tools' conventions (RFC 3339 string times, string values,
per-pod series, PagerDuty-style priorities, Alertmanager severities, a ConfigMap), not by the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import yaml

import day2ai

START = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
DAYS = 35
STEP = 900


def _rfc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _series(name: str, labels: dict[str, str], values: np.ndarray, t: np.ndarray) -> bytes:
    item = {"metric": {"__name__": name, **labels}, "values": [[_rfc(a), f"{b:.6g}"] for a, b in zip(t, values,
                                                                                                       strict=True)]}
    return orjson.dumps(item) + b"\n"


def _write(root: Path) -> None:
    rng = np.random.default_rng(0)
    t = START + np.arange(0, DAYS * 86400, STEP)
    days = (t - START) / 86400
    cycle = 1 + 0.3 * np.sin((t % 86400) / 86400 * 2 * np.pi)
    services = [{"name": n, "tier": 2, "runbook": f"runbooks/{n}.md", "alerts": [f"{n}-errors"],
                 "telemetry": ["metrics", "logs", "traces"],
                 "resources": {"replicas": 2, "cpu_request_cores": 1, "memory_request_bytes": 2**31}}
                for n in ("web", "search", "queue")]
    site = {"name": "other", "period": {"start": _rfc(START), "end": _rfc(START + DAYS * 86400)},
            "oncall": {"timezone": "America/New_York"}, "services": services}
    (root / "site.yaml").write_text(yaml.safe_dump(site))
    lines = []
    for svc in ("web", "search", "queue"):
        lines.append(_series("request_rate", {"service": svc}, 50 * cycle, t))
        for pod in ("a", "b"):
            lab = {"service": svc, "pod": f"{svc}-{pod}"}
            lines.append(_series("cpu_usage_cores", lab, 0.8 * cycle * rng.lognormal(0, 0.05, t.size), t))
            lines.append(_series("memory_working_set_bytes", lab, 0.7 * 2**31 * np.ones(t.size), t))
    # queue backlog grows into its capacity in ~5 days; search's disk is flat at 93% (a decoy)
    lines.append(_series("queue_depth", {"service": "queue"}, (2000 + 230 * days) * cycle, t))
    lines.append(_series("queue_capacity", {"service": "queue"}, np.full(t.size, 12000.0), t))
    idx = {"service": "search", "volume": "idx"}
    lines.append(_series("disk_used_bytes", idx, 0.93e9 + rng.normal(0, 1e6, t.size), t))
    lines.append(_series("disk_capacity_bytes", {"service": "search", "volume": "idx"}, np.full(t.size, 1e9), t))
    (root / "metrics.jsonl").write_bytes(b"".join(lines))
    incidents = [{"id": f"PD-{i}", "service": "web", "severity": "P2", "opened_at": _rfc(START + i * 5 * 86400),
                  "acknowledged_at": _rfc(START + i * 5 * 86400 + 600),
                  "resolved_at": _rfc(START + i * 5 * 86400 + 3600), "title": "web 502s",
                  "root_cause": {"service": "web", "fault": "bad_deploy"}} for i in range(1, 5)]
    (root / "incidents.jsonl").write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in incidents))
    alerts = [{"alert": "SearchSlow", "service": "search", "severity": "critical", "fired_at": _rfc(START + h * 3600),
               "resolved_at": _rfc(START + h * 3600 + 300), "acknowledged": False} for h in range(0, DAYS * 24, 30)]
    (root / "alerts.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in alerts))
    for side, value in (("desired", "info"), ("live", "debug")):
        (root / "config" / side).mkdir(parents=True)
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config", "namespace": "prod"},
              "data": {"LOG_LEVEL": value}}
        (root / "config" / side / "cm.yaml").write_text(yaml.safe_dump(cm))
    (root / "knowledge" / "runbooks").mkdir(parents=True)
    for svc in ("web", "search", "queue"):
        text = f"# {svc}\n\n`kubectl rollout restart deploy/{svc}`\n"
        (root / "knowledge" / "runbooks" / f"{svc}.md").write_text(text)


def test_history_in_other_conventions(tmp_path: Path) -> None:
    _write(tmp_path)
    report = day2ai.scan(tmp_path)
    got = {(f.kind, f.service) for f in report.findings}
    assert got == {("capacity_exhaustion", "queue"), ("noisy_alert", "search"), ("automation_candidate", "web"),
                   ("config_drift", "web")}, report.findings
    [queue] = [f for f in report.findings if f.kind == "capacity_exhaustion"]
    assert queue.resource == "queue"
    assert report.health.pages == len([1 for _ in range(0, DAYS * 24, 30)])
    assert report.health.mttr_minutes_median == 60 and report.health.incidents == 4
