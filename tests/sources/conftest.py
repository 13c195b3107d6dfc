"""Fixtures of the telemetry-backend tests: the scenario and a real Prometheus serving it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sources.servers.prom import PrometheusServer, VictoriaMetricsServer
from tests.sources.servers.scenario import Scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return Scenario.recent(time.time())


@pytest.fixture(scope="session")
def prometheus(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus on 127.0.0.1 holding the scenario's metrics (backfilled with promtool)."""
    server = PrometheusServer(Path(tmp_path_factory.mktemp("prometheus")), scenario.openmetrics())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def victoriametrics(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    """A real VictoriaMetrics on 127.0.0.1 holding the same metrics (pushed through its import API)."""
    server = VictoriaMetricsServer(Path(tmp_path_factory.mktemp("victoriametrics")), scenario.openmetrics())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["prometheus", "victoriametrics"])
def metrics_server(request: pytest.FixtureRequest) -> PrometheusServer:
    """Each real server that speaks the Prometheus HTTP API, in turn."""
    server: PrometheusServer = request.getfixturevalue(request.param)
    return server
