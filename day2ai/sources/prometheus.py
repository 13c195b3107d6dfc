"""Metrics from the Prometheus HTTP API (and what speaks it: Thanos, Mimir, VictoriaMetrics).

Investigators ask for metrics by the bundle spec's suggested names (``cpu_usage_ratio``,
``request_latency_p99_seconds``, ...). Each name maps to a PromQL template; ``{service}`` is
replaced by a regex alternation of the services asked for (``.+`` for all), ``{window}`` by the
rate window chosen for the step. The defaults fit cAdvisor + kube-state-metrics (label
``container``) and OpenTelemetry HTTP server histograms (label ``service``); a site overrides or
adds templates in its configuration. A result series gets ``name`` = the suggested name and
``service`` = the first of ``service_labels`` present in its labels.

Steps are chosen from the query range (at most ``max_points`` points, at least ``min_step``,
rounded up to a "nice" step) and the range is aligned to the step, so that a sub-range query
returns exactly the points of a larger one: a recorded bundle replays what the live run saw.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from day2ai.errors import SourceError, SourceUnavailable
from day2ai.sources.base import MetricQuery, MetricSeries
from day2ai.sources.http import HttpClient, expect

_C = '{container=~"{service}"}'
_KSM_CPU = 'kube_pod_container_resource_limits{container=~"{service}",resource="cpu"}'
_KSM_MEM = 'kube_pod_container_resource_limits{container=~"{service}",resource="memory"}'
_HTTP = "http_server_request_duration_seconds"


def _rate(metric: str, selector: str = _C) -> str:
    return f"rate({metric}{selector}[{{window}}])"


def _quantile(q: float) -> str:
    return (f"histogram_quantile({q}, sum by (service, le) "
            f'(rate({_HTTP}_bucket{{service=~"{{service}}"}}[{{window}}])))')


DEFAULT_QUERIES: dict[str, str] = {
    "cpu_usage_ratio": f"sum by (container) ({_rate('container_cpu_usage_seconds_total')}) "
                       f"/ sum by (container) ({_KSM_CPU})",
    "cpu_throttled_ratio": f"sum by (container) ({_rate('container_cpu_cfs_throttled_periods_total')}) "
                           f"/ sum by (container) ({_rate('container_cpu_cfs_periods_total')})",
    "memory_working_set_bytes": f"sum by (container) (container_memory_working_set_bytes{_C})",
    "memory_limit_bytes": f"sum by (container) ({_KSM_MEM})",
    "disk_usage_ratio": f"max by (container) (container_fs_usage_bytes{_C} / container_fs_limit_bytes{_C})",
    "network_receive_bytes_rate": "sum by (service) (rate(network_receive_bytes_total"
                                  '{service=~"{service}"}[{window}]))',
    "network_transmit_bytes_rate": "sum by (service) (rate(network_transmit_bytes_total"
                                   '{service=~"{service}"}[{window}]))',
    "restarts_total": f"sum by (container) (kube_pod_container_status_restarts_total{_C})",
    "request_rate": f'sum by (service) (rate({_HTTP}_count{{service=~"{{service}}"}}[{{window}}]))',
    "request_error_ratio": (
        f'sum by (service) (rate({_HTTP}_count{{service=~"{{service}}",http_response_status_code=~"5.."}}'
        f"[{{window}}])) / sum by (service) (rate({_HTTP}_count{{service=~\"{{service}}\"}}[{{window}}]))"),
    "request_latency_p50_seconds": _quantile(0.5),
    "request_latency_p99_seconds": _quantile(0.99),
    "connections_in_use": 'sum by (service) (db_client_connections_usage{service=~"{service}",state="used"})',
    "connections_max": 'sum by (service) (db_client_connections_max{service=~"{service}"})',
}

DEFAULT_SERVICE_LABELS = ("service", "service_name", "container", "job", "app")
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


def choose_step(start: float, end: float, *, max_points: int = 1000, min_step: float = 15.0) -> float:
    """The smallest "nice" step >= ``min_step`` giving at most ``max_points`` points."""
    raw = max(min_step, (end - start) / max(1, max_points - 1))
    for step in NICE_STEPS:
        if step >= raw:
            return float(step)
    return float(math.ceil(raw / 86400) * 86400)


def rate_window(step: float, scrape_interval: float = 15.0) -> str:
    """A rate window covering at least four scrapes and two steps, as PromQL duration text."""
    seconds = int(max(4 * scrape_interval, 2 * step))
    return f"{seconds}s"


def service_regex(services: Iterable[str] | None) -> str:
    if services is None:
        return ".+"
    names = sorted(set(services))
    return "|".join(re.escape(s).replace("\\", "\\\\").replace('"', '\\"') for s in names) or "$^"


def render(template: str, services: Iterable[str] | None, window: str) -> str:
    """Fill ``{service}`` and ``{window}`` (literal replacement: PromQL's own braces stay)."""
    return template.replace("{service}", service_regex(services)).replace("{window}", window)


def _float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class PrometheusSource:
    """MetricsSource over ``/api/v1/query_range``, plus series and label discovery."""

    name = "prometheus"

    def __init__(self, client: HttpClient, *, queries: dict[str, str] | None = None,
                 service_labels: Iterable[str] = DEFAULT_SERVICE_LABELS, min_step: float = 15.0,
                 max_points: int = 1000, scrape_interval: float = 15.0, default_range: float = 3600.0):
        self.client = client
        self.queries = {**DEFAULT_QUERIES, **(queries or {})}
        self.service_labels = tuple(service_labels)
        self.min_step = min_step
        self.max_points = max_points
        self.scrape_interval = scrape_interval
        self.default_range = default_range

    def _range(self, query: MetricQuery) -> tuple[float, float, float]:
        end = query.end if query.end is not None else time.time()
        start = query.start if query.start is not None else end - self.default_range
        step = choose_step(start, end, max_points=self.max_points, min_step=self.min_step)
        return math.ceil(start / step) * step, math.floor(end / step) * step, step

    async def series(self, query: MetricQuery) -> AsyncIterator[MetricSeries]:
        start, end, step = self._range(query)
        if end < start:
            return
        window = rate_window(step, self.scrape_interval)
        names = query.names if query.names is not None else tuple(self.queries)
        failed: list[str] = []
        for name in names:
            template = self.queries.get(name)
            if template is None:
                continue
            promql = render(template, query.services, window)
            try:
                result = await self.query_range(promql, start, end, step)
            except SourceUnavailable:
                raise  # the backend is down: the other queries would fail the same way
            except SourceError as exc:  # one bad query (e.g. an invalid override): keep the others
                failed.append(f"{name}: {exc.problem}")
                continue
            for item in result:
                s = self._to_series(name, item, query)
                if s is not None:
                    yield s
        if failed:
            raise self.client.error(f"{len(failed)} of {len(names)} metric queries failed (the others were "
                                    f"returned): " + "; ".join(failed)[:1000])

    async def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """The raw ``matrix`` result of one range query."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = await self._api("/api/v1/query_range", params)
        expect(self.client, isinstance(data, dict) and data.get("resultType") == "matrix",
               "/api/v1/query_range", "expected data.resultType 'matrix'")
        result = data.get("result")
        expect(self.client, isinstance(result, list), "/api/v1/query_range", "data.result is not a list")
        return [r for r in result if isinstance(r, dict)]

    async def label_values(self, label: str, match: str | None = None,
                           start: float | None = None, end: float | None = None) -> list[str]:
        params: dict[str, Any] = {}
        if match:
            params["match[]"] = match
        if start is not None:
            params["start"] = f"{start:.3f}"
        if end is not None:
            params["end"] = f"{end:.3f}"
        data = await self._api(f"/api/v1/label/{label}/values", params)
        expect(self.client, isinstance(data, list), "label values", "expected a list")
        return [str(v) for v in data]

    async def find_series(self, match: str, start: float | None = None,
                          end: float | None = None) -> list[dict[str, str]]:
        params: dict[str, Any] = {"match[]": match}
        if start is not None:
            params["start"] = f"{start:.3f}"
        if end is not None:
            params["end"] = f"{end:.3f}"
        data = await self._api("/api/v1/series", params)
        expect(self.client, isinstance(data, list), "/api/v1/series", "expected a list")
        return [{str(k): str(v) for k, v in d.items()} for d in data if isinstance(d, dict)]

    async def services(self, start: float | None = None, end: float | None = None) -> list[str]:
        """Service names known to the server (values of the first service label that has any)."""
        for label in self.service_labels:
            values = await self.label_values(label, start=start, end=end)
            if values:
                return values
        return []

    async def _api(self, path: str, params: dict[str, Any]) -> Any:
        body = await self.client.get_json(path, params)
        expect(self.client, isinstance(body, dict), path, "expected a JSON object")
        if body.get("status") != "success":
            raise self.client.error(f"{path}: {body.get('errorType', 'error')}: {body.get('error', '?')}")
        return body.get("data")

    def _to_series(self, name: str, item: dict[str, Any], query: MetricQuery) -> MetricSeries | None:
        metric = item.get("metric") or {}
        labels = {str(k): str(v) for k, v in metric.items() if k != "__name__"}
        service = next((labels[k] for k in self.service_labels if labels.get(k)), None)
        if service is None and query.services is not None and len(query.services) == 1:
            service = query.services[0]
        if service is None:
            return None
        if query.services is not None and service not in query.services:
            return None
        labels["service"] = service
        if any(labels.get(k) != v for k, v in query.labels.items()):
            return None
        values = item.get("values") or []
        ts = [float(p[0]) for p in values if isinstance(p, list) and len(p) == 2]
        vs = [_float(p[1]) for p in values if isinstance(p, list) and len(p) == 2]
        return MetricSeries(name=name, service=service, labels=labels, timestamps=ts, values=vs)
