"""Live mode: an ops history read through the source Protocols from a (mocked) Prometheus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np

from day2ai.scan.engine import analyse
from day2ai.sources.base import MetricSeries
from day2ai.sources.history_live import alert_firings, load_live_history

NOW = 1767225600.0 + 30 * 86400
CONFIG = """site: shop
metrics:
  type: prometheus
  url: http://prom.test
  queries:
    disk_used_bytes: 'disk_used_bytes{service=~"{service}"}'
    disk_capacity_bytes: 'disk_capacity_bytes{service=~"{service}"}'
    ALERTS: 'ALERTS{alertstate="firing"}'
"""


def _matrix(query: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    t = np.arange(start, end + 1, step)
    days = (t - start) / 86400
    if query.startswith("disk_used_bytes"):
        values = 400 + 18 * days  # 1000 bytes of disk full about 3 days after the end
    elif query.startswith("disk_capacity_bytes"):
        values = np.full(t.size, 1000.0)
    elif query.startswith("ALERTS"):
        fire = (np.arange(t.size) % 40) < 2
        return [{"metric": {"__name__": "ALERTS", "alertname": "DiskFilling", "service": "db",
                            "severity": "warning"}, "values": [[float(a), "1"] for a in t[fire]]}]
    else:
        return []
    name = query.split("{")[0]
    return [{"metric": {"__name__": name, "service": "db", "volume": "data"},
             "values": [[float(a), str(b)] for a, b in zip(t, values, strict=True)]}]


def _handler(request: httpx.Request) -> httpx.Response:
    p = request.url.params
    if request.url.path.endswith("/query_range"):
        result = _matrix(p["query"], float(p["start"]), float(p["end"]), float(p["step"]))
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})
    return httpx.Response(200, json={"status": "success", "data": []})


async def test_live_history_from_prometheus(tmp_path: Path) -> None:
    cfg = tmp_path / "site.yaml"
    cfg.write_text(CONFIG)
    h = await load_live_history(cfg, "30d", now=NOW, transport=httpx.MockTransport(_handler))
    assert {s.name for s in h.metrics} >= {"disk_used_bytes", "disk_capacity_bytes"}
    assert [s.name for s in h.site.services] == ["db"]
    assert h.alerts and all(a.alert == "DiskFilling" and a.severity == "ticket" for a in h.alerts)
    assert {g[0] for g in h.gaps} >= {"changes", "incidents", "config/desired"}
    report = analyse(h)
    assert [(f.kind, f.service) for f in report.findings if f.kind == "capacity_exhaustion"] == \
        [("capacity_exhaustion", "db")]
    assert report.health.alerts_per_week is not None and report.health.incidents is None


def test_alert_runs_become_firings() -> None:
    t = [0.0, 60, 120, 600, 660, 2000]
    s = MetricSeries(name="ALERTS", service="api", labels={"alertname": "X", "severity": "critical"},
                     timestamps=t, values=[1.0] * len(t))
    out = alert_firings([s])
    assert [(a.fired_at, a.resolved_at) for a in out] == [(0, 180), (600, 720), (2000, 2060)]
    assert all(a.severity == "page" for a in out)
