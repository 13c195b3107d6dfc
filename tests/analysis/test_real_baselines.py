"""Baselines as real data gives them: short, sparse or after the incident; sporadic series; onsets."""

from pathlib import Path

import numpy as np

from day2ai.analysis.features import Signals, build_features
from day2ai.analysis.graph import CallGraph
from day2ai.analysis.logs import LogAccumulator
from day2ai.analysis.metrics import (
    SeriesAnomaly,
    classify_metric,
    saturation,
    score_series,
    series_onsets,
    service_profiles,
    sustained_peak,
)
from day2ai.analysis.periods import Periods, needs_pre, periods_for_onset, preliminary_periods
from day2ai.models import Incident


def _incident(baseline: tuple[float, float] | None, detected: float = 3000.0) -> Incident:
    return Incident.model_validate(
        {
            "id": "x",
            "title": "t",
            "detected_at": detected,
            "window": {"start": 0.0, "end": 3600.0},
            "baseline": {"start": baseline[0], "end": baseline[1]} if baseline else None,
        }
    )


def test_a_baseline_after_the_onset_ends_the_incident_period_and_keeps_the_time_before() -> None:
    p = periods_for_onset(_incident((3300.0, 3360.0)), 2900.0)
    assert (p.incident_start, p.incident_end) == (2900.0, 3300.0)
    assert (p.pre_start, p.pre_end) == (0.0, 2900.0) and p.has_pre
    late = periods_for_onset(_incident((3300.0, 3360.0)), 1000.0)
    assert (late.pre_start, late.pre_end) == (1000.0 - 1800.0, 1000.0)
    assert p.explicit_baseline and p.detected == 3000.0


def test_a_baseline_before_the_window_makes_the_whole_window_searchable() -> None:
    live = preliminary_periods(_incident((-3600.0, 0.0), detected=3600.0))
    assert live.incident_start == 0.0 and live.incident_end == 3600.0
    inside = preliminary_periods(_incident((0.0, 900.0), detected=3600.0))
    assert inside.incident_start > 2600.0  # a given baseline inside the window keeps the guard


def test_needs_pre_only_for_a_given_baseline_sparser_than_the_incident() -> None:
    p = periods_for_onset(_incident((3300.0, 3360.0)), 2900.0)
    assert needs_pre(p, n_base=1, n_inc=5, minimum=3)
    assert not needs_pre(p, n_base=40, n_inc=5, minimum=3)
    no_given = periods_for_onset(_incident(None), 2900.0)
    assert not needs_pre(no_given, n_base=1, n_inc=5, minimum=3)


def test_one_minute_metrics_with_a_one_point_baseline_use_the_time_before_the_onset() -> None:
    rng = np.random.default_rng(3)
    ts = np.arange(0.0, 3360.0, 60.0)
    vs = 0.3 + 0.01 * rng.standard_normal(len(ts))
    vs[(ts >= 2900.0) & (ts < 3300.0)] = 0.95  # saturated after the onset
    p = periods_for_onset(_incident((3300.0, 3360.0)), 2900.0)
    a = score_series("svc", "cpu_usage_ratio", {}, ts, vs, p)
    assert a is not None and a.baseline == "given + before the onset"
    assert a.direction == 1 and a.score > 10.0
    quiet = score_series("svc", "cpu_usage_ratio", {}, ts, np.full(len(ts), 0.3), p)
    assert quiet is not None and quiet.score < 1.0


def test_a_level_the_baseline_itself_reached_is_not_an_anomaly() -> None:
    ts = np.arange(0.0, 3600.0, 60.0)
    vs = np.full(len(ts), 0.004)
    vs[10:14] = 20.0  # a burst of timeouts long before: the series is sporadic
    p = Periods(baseline_start=0, baseline_end=2400, incident_start=2400, incident_end=3600, onset=2400)
    same = vs.copy()
    same[45:49] = 20.0
    a = score_series("svc", "client_latency_p90_seconds", {}, ts, same, p)
    assert a is not None and a.score <= 2.0
    higher = vs.copy()
    higher[45:49] = 60.0
    b = score_series("svc", "client_latency_p90_seconds", {}, ts, higher, p)
    assert b is not None and b.score > 10.0


def test_a_passing_episode_does_not_date_the_incident() -> None:
    ts = np.arange(0.0, 3600.0, 60.0)
    p = Periods(baseline_start=0, baseline_end=1800, incident_start=1800, incident_end=3600, onset=1800, detected=3500)
    rng = np.random.default_rng(5)
    episode = 1.0 + 0.02 * rng.standard_normal(len(ts))
    episode[31:34] = 5.0  # recovered 25 minutes before the alert
    steady = 1.0 + 0.02 * rng.standard_normal(len(ts))
    steady[50:] = 5.0
    found = [
        score_series("a", "latency_seconds", {}, ts, episode, p),
        score_series("b", "latency_seconds", {}, ts, steady, p),
    ]
    onsets = series_onsets([x for x in found if x is not None])
    assert onsets == [3000.0]


def test_the_last_point_counts_as_a_start() -> None:
    assert sustained_peak(np.array([0.1, 0.2, 0.1, 9.0]))[0] == 3
    assert sustained_peak(np.array([0.1, 9.0, 0.2, 0.1]))[1] < 1.0


def _logs(p: Periods, lines: dict[str, list[tuple[float, str, str]]]) -> LogAccumulator:
    acc = LogAccumulator(start=0.0)
    for svc, rows in lines.items():
        for t, level, msg in rows:
            acc.add(t, svc, msg, level)
    return acc


def test_new_errors_originate_where_callees_show_none() -> None:
    p = Periods(baseline_start=0, baseline_end=600, incident_start=600, incident_end=1200, onset=600)
    normal = [(float(t), "INFO", f"handled request {t}") for t in range(0, 1200, 5)]
    lines = {
        "front": [*normal, *[(700.0 + t, "ERROR", f"Servlet.service() threw exception id {t}") for t in range(20)]],
        "mid": [*normal, *[(690.0 + t, "ERROR", f"getContacts failed: contacts is null, id {t}") for t in range(20)]],
        "leaf": normal,
    }
    la = _logs(p, lines).analyze(p, ["front", "mid", "leaf"])
    g = CallGraph()
    g.add("front", "mid", "traces")
    g.add("mid", "leaf", "traces")
    feats = build_features(Signals(periods=p, graph=g, logs=la))
    assert feats["mid"].new_errors > 0.9 and feats["front"].new_errors > 0.9
    assert feats["mid"].log_origin > 0.9 > feats["front"].log_origin
    assert feats["leaf"].log_origin == 0.0
    assert la.baseline_minutes == 10.0


def test_log_rates_are_per_covered_minute() -> None:
    # logs only around the fault: a one-minute given baseline long before, three minutes of incident
    p = periods_for_onset(_incident((600.0, 660.0)), 3000.0)
    rows = [(600.0 + t, "INFO", "tick") for t in range(0, 60, 2)]
    rows += [(3000.0 + t, "INFO", "tick") for t in range(0, 180, 2)]
    la = _logs(p, {"svc": rows}).analyze(p, ["svc"])
    assert la.baseline_minutes == 1.0
    t = next(iter(la.profiles["svc"].templates), None)
    assert t is None or abs(t.score) < 3.0  # the same rate: not a surge


def _series(name: str, base: float, peak: float) -> SeriesAnomaly:
    return SeriesAnomaly(
        service="svc",
        name=name,
        kind=classify_metric(name),
        score=50.0,
        direction=1,
        baseline_value=base,
        incident_value=peak,
        peak_value=peak,
    )


def test_saturation_is_absolute() -> None:
    assert saturation(_series("cpu_usage_ratio", 0.02, 0.999)) > 0.99
    assert saturation(_series("cpu_usage_ratio", 0.008, 1.00023)) == 1.0  # a quota read with sampling jitter
    assert saturation(_series("cpu_usage_ratio", 0.02, 1.8)) == 0.0  # above any limit: not a 0..1 ratio
    assert saturation(_series("cpu_usage_ratio", 0.30, 0.35)) == 0.0  # a large z, far from the ceiling
    assert saturation(_series("cpu_usage_millicores", 20.0, 999.0)) == 0.0  # not a ratio of a limit
    assert saturation(_series("request_latency_seconds", 0.1, 0.95)) == 0.0  # not a resource
    prof = service_profiles([_series("cpu_usage_millicores", 20.0, 999.0), _series("cpu_usage_ratio", 0.02, 0.95)])
    assert prof["svc"].saturation > 0.9


def test_a_warn_line_counts_half_of_an_error_line() -> None:
    p = Periods(baseline_start=0, baseline_end=600, incident_start=600, incident_end=1200, onset=600)
    normal = [(float(t), "INFO", f"handled request {t}") for t in range(0, 1200, 5)]
    lines = {
        "a": [*normal, *[(700.0 + t, "ERROR", f"lookup failed: record is null, id {t}") for t in range(20)]],
        "b": [*normal, *[(700.0 + t, "WARN", f"lookup failed: record is null, id {t}") for t in range(20)]],
    }
    feats = build_features(Signals(periods=p, logs=_logs(p, lines).analyze(p, ["a", "b"])))
    assert feats["a"].new_errors > 0.9
    assert abs(feats["b"].new_errors - 0.5 * feats["a"].new_errors) < 0.05


async def test_metric_anomalies_that_start_after_the_alert_leave_the_onset_to_the_logs(tmp_path: Path) -> None:
    from day2ai.sources.bundle import load_bundle
    from day2ai.tools import signals as sig
    from day2ai.tools.base import Investigation
    from tests.bundle_factory import T0, series, write_bundle

    # the alert fires at 10:32; checkout's errors start at 10:26; its CPU only moves at 10:38
    cpu = [0.2 + 0.01 * (i % 3) for i in range(152)] + [0.9] * 28  # 15 s steps: 10:38 on
    logs = [
        {"timestamp": T0 + s, "service": "checkout", "level": "ERROR" if s >= 1560 else "INFO",
         "message": "payment failed" if s >= 1560 else "payment ok"}
        for s in range(0, 2700)
    ]
    b = load_bundle(write_bundle(tmp_path / "b", metrics=[series("cpu_usage_ratio", "checkout", cpu)], logs=logs))
    inv = Investigation(incident=b.incident, sources=b.sources)
    p = await sig.periods(inv)
    assert abs(p.onset - (T0 + 1560)) <= 60  # the error lines date it, not the alert time (10:32)
