from __future__ import annotations

import numpy as np
import pytest

from day2ai.scan.capacity import capacity_findings, degrading_dependencies, forecasts
from day2ai.sources.history import Series
from tests.scan.helpers import DAY, START, daily_cycle, series, site, times, weekly_cycle

CAP = 1000.0


def _disk(frac: np.ndarray, t: np.ndarray, service: str = "db") -> list[Series]:
    return [series("disk_used_bytes", t, frac * CAP, service, volume="data"),
            series("disk_capacity_bytes", t, np.full(t.size, CAP), service, volume="data")]


def test_growing_disk_is_found_with_its_eta_and_band() -> None:
    t = times(42, 600)
    days = (t - START) / DAY
    eta_after_end = 6.0
    frac = 0.4 + 0.6 * days / (42 + eta_after_end) + 0.005 * np.sin(days * 2 * np.pi)
    fcs = forecasts(_disk(frac, t), site())
    assert len(fcs) == 1
    fc = fcs[0]
    assert fc.eta_days == pytest.approx(eta_after_end, abs=1.0)
    assert fc.eta_low is not None and fc.eta_high is not None and fc.eta_low <= fc.eta_days <= fc.eta_high
    [f] = capacity_findings(fcs)
    assert (f.kind, f.service, f.resource) == ("capacity_exhaustion", "db", "disk")
    assert f.eta is not None and f.eta.startswith("2026-02-1")
    assert f.remediation is not None and f.remediation.requires_approval


@pytest.mark.parametrize("shape", ["flat_high", "weekly_sawtooth", "one_day_step", "slow_growth", "daily_cycle"])
def test_decoys_are_not_capacity_findings(shape: str) -> None:
    rng = np.random.default_rng(11)
    t = times(42, 600)
    days = (t - START) / DAY
    noise = rng.normal(0, 0.002, t.size)
    dow = np.floor(t / DAY + 3) % 7
    frac = {
        "flat_high": 0.94 + noise,
        "weekly_sawtooth": np.where(dow >= 5, 0.5, 0.55 + 0.07 * dow) + noise,
        "one_day_step": np.where(np.floor(days) == 38, 0.98, 0.6) + noise,
        "slow_growth": 0.5 + 0.15 * days / 42 + noise,
        "daily_cycle": 0.7 * daily_cycle(t, 0.3) * weekly_cycle(t, 0.8) + noise,
    }[shape]
    assert forecasts(_disk(frac, t), site()) == []


def test_limit_from_a_single_series_of_the_service_and_from_site_memory_limit() -> None:
    t = times(30, 3600)
    days = (t - START) / DAY
    used = series("connections_in_use", t, 40 + 2 * days, "db", pool="main")
    limit = series("connections_max", t, np.full(t.size, 100.0), "db")
    [fc] = forecasts([used, limit], site(30))
    assert fc.resource == "connections" and fc.limit == 100
    s = site(30, services=[{"name": "db", "resources": {"memory_limit_bytes": 1000}}])
    mem = series("memory_working_set_bytes", t, 500 + 15 * days, "db", pod="db-0")
    [fc] = forecasts([mem], s)
    assert fc.resource == "memory"


def _client(latency: np.ndarray, errors: np.ndarray, t: np.ndarray) -> list[Series]:
    return [series("client_latency_p99_seconds", t, latency, "web", peer="db"),
            series("client_error_ratio", t, errors, "web", peer="db")]


def test_latency_rising_over_days_is_a_degrading_dependency() -> None:
    rng = np.random.default_rng(2)
    t = times(42, 300)
    days = (t - START) / DAY
    lat = 0.1 * (1 + 1.2 * days / 42) * daily_cycle(t) * rng.lognormal(0, 0.1, t.size)
    [f] = degrading_dependencies(_client(lat, np.full(t.size, 0.001), t), site())
    assert (f.kind, f.service, f.peer) == ("degrading_dependency", "web", "db")


def test_error_ratio_rising_is_found() -> None:
    t = times(42, 300)
    days = (t - START) / DAY
    [f] = degrading_dependencies(_client(np.full(t.size, 0.1), 0.001 + 0.04 * days / 42, t), site())
    assert "error ratio" in f.summary


def test_one_incident_day_and_weekly_cycles_are_not_degradation() -> None:
    rng = np.random.default_rng(4)
    t = times(42, 300)
    days = (t - START) / DAY
    hit = np.floor(days) == 30
    lat = np.where(hit, 1.0, 0.1) * daily_cycle(t) * weekly_cycle(t, 0.7) * rng.lognormal(0, 0.1, t.size)
    err = np.where(hit, 0.3, 0.002)
    assert degrading_dependencies(_client(lat, err, t), site()) == []


def test_a_level_shift_that_stays_is_not_a_trend() -> None:
    rng = np.random.default_rng(8)
    t = times(42, 600)
    days = (t - START) / DAY
    frac = np.where(days >= 28, 0.8, 0.5) + rng.normal(0, 0.002, t.size)  # a data import, then flat
    assert forecasts(_disk(frac, t), site()) == []
    lat = np.where(days >= 25, 0.3, 0.1) * rng.lognormal(0, 0.05, t.size)  # a slower release, then flat
    assert degrading_dependencies(_client(lat, np.full(t.size, 0.001), t), site()) == []


def test_degradation_that_started_recently_is_found() -> None:
    rng = np.random.default_rng(9)
    t = times(42, 300)
    days = (t - START) / DAY
    lat = 0.1 * (1 + np.clip(days - 24, 0, None) / 10) * rng.lognormal(0, 0.05, t.size)
    [f] = degrading_dependencies(_client(lat, np.full(t.size, 0.001), t), site())
    assert f.peer == "db"
