"""PrometheusSource against real servers of the Prometheus HTTP API (Debian packages): Prometheus over a
TSDB backfilled with promtool, and VictoriaMetrics loaded through its import API."""

from __future__ import annotations

import pytest

from day2ai.errors import SourceError, SourceUnavailable
from day2ai.sources.base import MetricQuery, MetricsSource
from day2ai.sources.http import HttpClient, HttpSettings
from day2ai.sources.prometheus import PrometheusSource, choose_step, render, service_regex
from tests.sources.servers.prom import PrometheusServer, free_port
from tests.sources.servers.scenario import BUCKETS, SERVICES, Scenario

pytestmark = pytest.mark.prometheus


def source(url: str, **kw: object) -> PrometheusSource:
    return PrometheusSource(HttpClient("prometheus", HttpSettings(url=url, retries=0, read_timeout=10)), **kw)  # type: ignore[arg-type]


def at(series_list: list, service: str) -> dict[float, float]:  # type: ignore[type-arg]
    match = [s for s in series_list if s.service == service]
    assert len(match) == 1, [s.service for s in series_list]
    return dict(zip(match[0].timestamps, match[0].values, strict=True))


def histogram_quantile(q: float, cumulative: list[float]) -> float:
    """The PromQL interpolation over the scenario's buckets (the reference we compare with)."""
    rank = q * cumulative[-1]
    lower, prev = 0.0, 0.0
    for le, count in zip(BUCKETS, cumulative, strict=False):
        if count >= rank:
            return lower + (le - lower) * (rank - prev) / (count - prev)
        lower, prev = le, count
    return BUCKETS[-1]


# ------------------------------------------------------------------ pure helpers


def test_step_selection_bounds_points_and_is_nice() -> None:
    for span in (600, 3600, 7 * 3600, 86400, 30 * 86400):
        step = choose_step(0, span, max_points=1000, min_step=15)
        assert step >= 15 and span / step <= 1000
        assert choose_step(0, span, max_points=1000, min_step=15) == step
    assert choose_step(0, 600, min_step=15) == 15


def test_templates_fill_services_and_window_without_touching_promql_braces() -> None:
    text = render('rate(x{service=~"{service}",code="5.."}[{window}])', ("a.b", "c"), "60s")
    assert text == 'rate(x{service=~"a\\\\.b|c",code="5.."}[60s])'
    assert service_regex(None) == ".+"
    assert 'x"' not in service_regex(['x"y'])[:2]


# ------------------------------------------------------------------ the real server


@pytest.fixture
def prom(metrics_server: PrometheusServer) -> PrometheusSource:
    return source(metrics_server.url)


async def test_is_a_metrics_source(prom: PrometheusSource) -> None:
    assert isinstance(prom, MetricsSource)


async def test_gauge_values_come_back_exactly(prom: PrometheusSource, scenario: Scenario) -> None:
    q = MetricQuery(
        start=scenario.t0, end=scenario.t0 + 1800, names=("memory_working_set_bytes",), services=("checkout",)
    )
    got = [s async for s in prom.series(q)]
    assert [s.name for s in got] == ["memory_working_set_bytes"]
    points = at(got, "checkout")
    expected = dict(
        zip(Scenario(t0=scenario.t0).times(), Scenario(t0=scenario.t0).memory()["checkout"], strict=True)
    )
    assert len(points) > 100
    for t, v in points.items():
        assert v == expected[t]


async def test_error_ratio_tracks_the_scenario(prom: PrometheusSource, scenario: Scenario) -> None:
    q = MetricQuery(start=scenario.t0 + 600, end=scenario.end, names=("request_error_ratio",))
    got = [s async for s in prom.series(q)]
    assert {s.service for s in got} == set(SERVICES)
    for svc in SERVICES:
        for t, v in at(got, svc).items():
            if abs(t - scenario.onset) < 300:
                continue  # the rate window straddles the onset
            assert v == pytest.approx(scenario.error_rate(svc, t) / 10.0, abs=1e-6), (svc, t)
    assert all(s.labels["service"] == s.service for s in got)


async def test_latency_quantiles_from_histograms(prom: PrometheusSource, scenario: Scenario) -> None:
    q = MetricQuery(
        start=scenario.t0 + 600,
        end=scenario.end,
        names=("request_latency_p99_seconds", "request_latency_p50_seconds"),
        services=("payments",),
    )
    got = [s async for s in prom.series(q)]
    assert sorted(s.name for s in got) == ["request_latency_p50_seconds", "request_latency_p99_seconds"]
    for s in got:
        quantile = 0.99 if "p99" in s.name else 0.5
        for t, v in zip(s.timestamps, s.values, strict=True):
            if abs(t - scenario.onset) < 300:
                continue
            want = histogram_quantile(quantile, scenario.latency_bucket_counts("payments", t))
            assert v == pytest.approx(want, rel=1e-6), (s.name, t)


async def test_cpu_ratio_and_step_alignment(prom: PrometheusSource, scenario: Scenario) -> None:
    start, end = scenario.t0 + 907, scenario.t0 + 4000
    got = [s async for s in prom.series(MetricQuery(start=start, end=end, names=("cpu_usage_ratio",)))]
    assert {s.service for s in got} == set(SERVICES)
    for s in got:
        assert all(v == pytest.approx(0.3) for v in s.values)
        step = s.timestamps[1] - s.timestamps[0]
        assert all(t % step == 0 for t in s.timestamps) and s.timestamps[0] >= start
    # a sub-range returns exactly the same points as the larger range (record/replay relies on it)
    sub = [
        s
        async for s in prom.series(
            MetricQuery(start=start + 600, end=end - 600, names=("cpu_usage_ratio",), services=("frontend",))
        )
    ]
    whole = at(got, "frontend")
    assert all(whole[t] == v for t, v in zip(sub[0].timestamps, sub[0].values, strict=True))


async def test_unknown_names_and_missing_data_yield_nothing(
    prom: PrometheusSource, scenario: Scenario
) -> None:
    q = MetricQuery(start=scenario.t0, end=scenario.end, names=("no_such_metric", "connections_in_use"))
    assert [s async for s in prom.series(q)] == []


async def test_label_and_series_discovery(prom: PrometheusSource, scenario: Scenario) -> None:
    assert sorted(await prom.services(scenario.t0, scenario.end)) == sorted(SERVICES)
    found = await prom.find_series(
        'container_memory_working_set_bytes{container="payments"}', scenario.t0, scenario.end
    )
    assert found == [{"__name__": "container_memory_working_set_bytes", "container": "payments"}]


async def test_site_templates_override_defaults(metrics_server: PrometheusServer, scenario: Scenario) -> None:
    prom = source(
        metrics_server.url,
        queries={
            "memory_working_set_bytes": "max by (container) (container_memory_working_set_bytes"
            '{container=~"{service}"}) / 1e6'
        },
    )
    got = [
        s
        async for s in prom.series(
            MetricQuery(
                start=scenario.t0,
                end=scenario.t0 + 900,
                names=("memory_working_set_bytes",),
                services=("frontend",),
            )
        )
    ]
    assert all(150 < v < 300 for v in got[0].values)


async def test_bad_promql_becomes_a_source_error(
    metrics_server: PrometheusServer, scenario: Scenario
) -> None:
    prom = source(metrics_server.url, queries={"broken": "sum(rate(x[{window}]"})
    with pytest.raises(SourceError) as info:
        [s async for s in prom.series(MetricQuery(start=scenario.t0, end=scenario.end, names=("broken",)))]
    assert info.value.backend == "prometheus" and "HTTP 4" in str(info.value)
    assert not isinstance(info.value, SourceUnavailable)


async def test_unreachable_server_is_unavailable() -> None:
    prom = source(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        [s async for s in prom.series(MetricQuery(start=0, end=600, names=("cpu_usage_ratio",)))]
