from __future__ import annotations

import numpy as np
import pytest

from day2ai.scan.rightsizing import rightsizing_findings
from day2ai.sources.history import Site
from tests.scan.helpers import daily_cycle, series, site, times

GIB = 2.0**30


def _site(cpu: float = 2.0, mem: float = 4 * GIB, replicas: int = 2) -> Site:
    return site(services=[{"name": "api", "team": "t", "resources": {
        "replicas": replicas, "cpu_request_cores": cpu, "memory_request_bytes": mem}}],
        prices={"cpu_core_hour": 0.03, "memory_gib_hour": 0.004})


def test_overprovisioned_uses_p95_cpu_and_max_memory_plus_margin() -> None:
    t = times(14, 300)
    cpu_total = 0.2 * daily_cycle(t) * 2  # two replicas, peak ~0.26 per replica
    mem_total = np.full(t.size, 0.5 * GIB) * 2
    s = _site()
    [f] = rightsizing_findings([series("cpu_usage_cores", t, cpu_total), series("request_rate", t, 10 * daily_cycle(t)),
                                series("memory_working_set_bytes", t, mem_total)], s)
    assert f.kind == "overprovisioned" and f.recommended is not None
    assert f.recommended["cpu_request_cores"] == pytest.approx(np.percentile(cpu_total / 2, 95), abs=1e-3)
    assert f.recommended["memory_request_bytes"] == pytest.approx(0.5 * GIB * 1.15, rel=1e-3)
    expected = 2 * 730 * ((2 - f.recommended["cpu_request_cores"]) * 0.03
                          + (4 * GIB - f.recommended["memory_request_bytes"]) / GIB * 0.004)
    assert f.monthly_savings == pytest.approx(expected, rel=1e-3)
    assert f.remediation is not None and f.remediation.requires_approval


def test_bursty_service_is_sized_by_its_bursts_not_its_mean() -> None:
    t = times(14, 300)
    burst = (np.arange(t.size) // 12) % 5 == 0  # an hour in every five at the request
    cpu = np.where(burst, 1.8, 0.1) * 2
    mem = np.full(t.size, 3 * GIB) * 2
    assert float(cpu.mean() / 2) < 0.5  # a mean-based sizer would halve it
    assert rightsizing_findings([series("cpu_usage_cores", t, cpu), series("memory_working_set_bytes", t, mem),
                                 series("request_rate", t, np.full(t.size, 5.0))], _site()) == []


def test_per_pod_series_are_not_divided_by_replicas() -> None:
    t = times(14, 300)
    pods = [series("cpu_usage_cores", t, np.full(t.size, 1.5), pod=f"api-{i}") for i in range(2)]
    mem = [series("memory_working_set_bytes", t, np.full(t.size, 3 * GIB), pod=f"api-{i}") for i in range(2)]
    assert rightsizing_findings([*pods, *mem], _site()) == []


def test_idle_workload_saves_its_whole_request() -> None:
    t = times(14, 300)
    f, = rightsizing_findings([series("request_rate", t, np.zeros(t.size)),
                               series("cpu_usage_cores", t, np.full(t.size, 0.004)),
                               series("memory_working_set_bytes", t, np.full(t.size, 0.1 * GIB))],
                              _site())
    assert f.kind == "idle_resource"
    assert f.monthly_savings == pytest.approx(2 * 730 * (2 * 0.03 + 4 * 0.004), rel=1e-3)


def test_little_traffic_is_not_idle() -> None:
    t = times(14, 300)
    rps = np.zeros(t.size)
    rps[100] = 3.0
    out = rightsizing_findings([series("request_rate", t, rps), series("cpu_usage_cores", t, np.full(t.size, 0.004)),
                                series("memory_working_set_bytes", t, np.full(t.size, 3 * GIB))],
                               _site())
    assert [f.kind for f in out] == ["overprovisioned"]


def test_without_request_rate_a_rare_job_is_not_idle_but_a_dead_one_is() -> None:
    t = times(14, 300)
    cron = np.where(np.arange(t.size) % 100 == 0, 1.5, 0.001) * 2  # runs 1% of the time
    mem = series("memory_working_set_bytes", t, np.full(t.size, 3 * GIB) * 2)
    kinds = [f.kind for f in rightsizing_findings([series("cpu_usage_cores", t, cron), mem], _site())]
    assert "idle_resource" not in kinds
    dead = series("cpu_usage_cores", t, np.full(t.size, 0.002))
    assert [f.kind for f in rightsizing_findings([dead, mem], _site())] == ["idle_resource"]
