import numpy as np
import pytest

from day2ai.analysis.metrics import (
    MetricKind,
    classify_metric,
    find_onset,
    score_series,
    series_onsets,
    service_profiles,
)
from day2ai.analysis.periods import Periods, combine_onsets, periods_for_onset, preliminary_periods
from day2ai.models import Incident

P = Periods(baseline_start=0, baseline_end=600, incident_start=600, incident_end=1200, onset=600)
TS = np.arange(0, 1200, 15.0)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cpu_usage_ratio", MetricKind.CPU),
        ("container_cpu_cfs_throttled_seconds_total", MetricKind.CPU),
        ("memory_working_set_bytes", MetricKind.MEMORY),
        ("jvm_heap_used", MetricKind.MEMORY),
        ("disk_usage_ratio", MetricKind.DISK),
        ("request_latency_p99_seconds", MetricKind.LATENCY),
        ("cartservice_latency-50", MetricKind.LATENCY),
        ("request_error_ratio", MetricKind.ERRORS),
        ("request_rate", MetricKind.TRAFFIC),
        ("restarts_total", MetricKind.RESTARTS),
        ("connections_in_use", MetricKind.CONNECTIONS),
        ("tcp_retransmits_total", MetricKind.PACKETS),
        ("network_receive_bytes_rate", MetricKind.NETWORK),
        ("frobnication_level", MetricKind.OTHER),
    ],
)
def test_classify_metric(name: str, kind: MetricKind) -> None:
    assert classify_metric(name) is kind


def test_step_up_is_scored_with_its_onset() -> None:
    rng = np.random.default_rng(1)
    vs = 0.3 + rng.normal(0, 0.01, len(TS))
    vs[TS >= 750] += 0.5
    a = score_series("api", "cpu_usage_ratio", {"pod": "api-1"}, TS, vs, P)
    assert a is not None
    assert a.score > 20 and a.direction == 1 and a.kind is MetricKind.CPU
    assert a.onset == 750.0
    assert a.instance == "api-1"


def test_single_spike_is_not_a_sustained_anomaly() -> None:
    rng = np.random.default_rng(2)
    vs = 10 + rng.normal(0, 0.2, len(TS))
    vs[60] = 100.0
    a = score_series("api", "request_rate", {}, TS, vs, P)
    assert a is not None and a.score < 6


def test_counter_is_scored_on_its_increases() -> None:
    vs = np.zeros(len(TS))
    vs[TS >= 900] = 3.0  # restarts_total jumps
    a = score_series("api", "restarts_total", {}, TS, vs, P)
    assert a is not None and a.counter and a.score > 5 and a.kind is MetricKind.RESTARTS


def test_missing_baseline_or_incident_gives_none() -> None:
    assert score_series("api", "x", {}, TS[TS >= 600], np.ones(int((TS >= 600).sum())), P) is None
    assert score_series("api", "x", {}, TS[:3], np.ones(3), P) is None


def test_missing_points_are_reported() -> None:
    vs = np.ones(len(TS))
    vs[TS >= 900] = np.nan
    a = score_series("api", "cpu", {}, TS, vs, P)
    assert a is not None and a.missing > 0.4


def test_find_onset_requires_persistence() -> None:
    z = np.array([0, 5, 0, 0, 6, 6, 6, 6.0])
    assert find_onset(np.arange(8.0), z) == 4.0


def test_service_profiles_take_the_worst_pod_and_earliest_onset() -> None:
    rng = np.random.default_rng(3)
    base = 0.3 + rng.normal(0, 0.01, len(TS))
    bad = base.copy()
    bad[TS >= 700] += 0.4
    anomalies = [score_series("api", "cpu_usage_ratio", {"pod": p}, TS, v, P) for p, v in (("a", base), ("b", bad))]
    prof = service_profiles([a for a in anomalies if a is not None])["api"]
    assert prof.by_kind[MetricKind.CPU].instance == "b"
    assert prof.onset == 705.0
    assert series_onsets([a for a in anomalies if a is not None]) == [705.0]


def _incident(baseline: bool = False) -> Incident:
    return Incident.model_validate(
        {
            "id": "x",
            "title": "t",
            "detected_at": 3000.0,
            "window": {"start": 0.0, "end": 3600.0},
            "baseline": {"start": 0.0, "end": 900.0} if baseline else None,
        }
    )


def test_preliminary_periods_keep_a_guard_before_detection() -> None:
    p = preliminary_periods(_incident())
    assert p.baseline_end < 3000.0 and p.baseline_end >= 3000.0 - 900.0
    assert p.incident_start == p.baseline_end


def test_explicit_baseline_is_used_even_if_not_adjacent() -> None:
    p = periods_for_onset(_incident(baseline=True), 2500.0)
    assert (p.baseline_start, p.baseline_end) == (0.0, 900.0)
    assert p.incident_start == 2500.0 and p.explicit_baseline


def test_combine_onsets_is_robust_and_bounded_by_detection() -> None:
    inc = _incident()
    assert combine_onsets([], inc) is None
    assert combine_onsets([2800.0, 2810.0, 2820.0, 2900.0, 2950.0, 3300.0], inc) is not None
    # anomalies that all start after the alert (3000) are its late effects: they date nothing
    assert combine_onsets([3500.0], inc) is None
    assert combine_onsets([2000.0, 3100.0, 3200.0, 3300.0, 3400.0, 3500.0], inc) is None
    assert combine_onsets([2900.0, 3500.0], inc) == 2900.0
    # a lone, much earlier onset does not drag the baseline away
    assert combine_onsets([100.0, 2800.0, 2820.0], inc) == 2800.0
