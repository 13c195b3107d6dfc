"""Jaeger and Tempo sources against mock transports of their documented APIs; OTLP/JSON files."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from day2ai.errors import SourceError
from day2ai.sources.base import LogQuery, SpanQuery, TracesSource
from day2ai.sources.http import HttpClient, HttpSettings
from day2ai.sources.jaeger import JaegerSource, parse_jaeger_trace
from day2ai.sources.otlp import OtlpFileSource, otlp_id
from day2ai.sources.tempo import TempoSource, build_traceql
from tests.sources.servers import mocks
from tests.sources.servers.scenario import SERVICES, Scenario


def http(handler: mocks.Handler, name: str) -> HttpClient:
    return HttpClient(
        name, HttpSettings(url="http://backend.test", retries=0), transport=httpx.MockTransport(handler)
    )


# ------------------------------------------------------------------ Jaeger


async def test_jaeger_spans_for_every_service_deduplicated(scenario: Scenario) -> None:
    traces = scenario.traces()
    jaeger = JaegerSource(http(mocks.jaeger(traces), "jaeger"))
    assert isinstance(jaeger, TracesSource)
    got = [s async for s in jaeger.spans(SpanQuery(start=scenario.t0, end=scenario.end))]
    assert len(got) == sum(
        1 for t in traces for s in t["spans"] if scenario.t0 <= s["startTime"] / 1e6 <= scenario.end
    )
    assert len({(s.trace_id, s.span_id) for s in got}) == len(got)
    by_id = {s.span_id: s for s in got}
    for s in got:
        if s.service == "frontend":
            assert s.parent_span_id is None
        else:
            assert by_id[s.parent_span_id].service == SERVICES[SERVICES.index(s.service) - 1]  # type: ignore[index]
    errors = [s for s in got if s.status == "error"]
    assert errors and all(s.service == "payments" and s.start >= scenario.onset for s in errors)


async def test_jaeger_errors_only_and_service_discovery(scenario: Scenario) -> None:
    jaeger = JaegerSource(http(mocks.jaeger(scenario.traces()), "jaeger"))
    assert await jaeger.services() == sorted(SERVICES)
    assert await jaeger.operations("payments") == ["POST /payments"]
    got = [
        s
        async for s in jaeger.spans(
            SpanQuery(start=scenario.t0, end=scenario.end, services=("payments",), errors_only=True)
        )
    ]
    assert got and all(s.status == "error" for s in got)


def test_jaeger_status_from_otel_tags() -> None:
    trace = {
        "traceID": "t",
        "processes": {"p1": {"serviceName": "a"}},
        "spans": [
            {
                "traceID": "t",
                "spanID": "1",
                "operationName": "op",
                "startTime": 1_000_000,
                "duration": 2500,
                "processID": "p1",
                "tags": [{"key": "otel.status_code", "type": "string", "value": "ERROR"}],
            },
            {
                "traceID": "t",
                "spanID": "2",
                "operationName": "op",
                "startTime": 1_000_000,
                "duration": 1,
                "processID": "p1",
                "tags": [{"key": "http.status_code", "type": "int64", "value": 200}],
            },
        ],
    }
    spans = parse_jaeger_trace(trace)
    assert (
        [s.status for s in spans] == ["error", "ok"] and spans[0].duration_ms == 2.5 and spans[0].start == 1.0
    )


async def test_jaeger_error_payload() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"data": None, "errors": [{"code": 500, "msg": "storage unavailable"}]}
        )

    with pytest.raises(SourceError, match="storage unavailable"):
        [
            s
            async for s in JaegerSource(http(handler, "jaeger")).spans(
                SpanQuery(start=0, end=1, services=("a",))
            )
        ]


# ------------------------------------------------------------------ Tempo (OTLP/JSON)


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def otlp_trace(
    trace_hex: str, services: tuple[str, ...], start_ns: int, *, as_base64: bool, error_on: str | None = None
) -> dict[str, Any]:
    batches = []
    parent = ""
    for depth, svc in enumerate(services):
        span_hex = f"{depth + 1:016x}"
        enc = b64 if as_base64 else str.upper

        batches.append(
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "otel"},
                        "spans": [
                            {
                                "traceId": enc(trace_hex),
                                "spanId": enc(span_hex),
                                "parentSpanId": parent and enc(parent),
                                "name": f"GET /{svc}",
                                "kind": "SPAN_KIND_SERVER",
                                "startTimeUnixNano": str(start_ns + depth),
                                "endTimeUnixNano": str(start_ns + 5_000_000),
                                "attributes": [{"key": "http.status_code", "value": {"intValue": "500"}}],
                                "status": {"code": "STATUS_CODE_ERROR"} if svc == error_on else {},
                            }
                        ],
                    }
                ],
            }
        )
        parent = span_hex
    return {"batches": batches}


def tempo_handler(traces: dict[str, dict[str, Any]], seen: list[httpx.URL]) -> mocks.Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.path == "/api/search":
            return httpx.Response(
                200,
                json={
                    "traces": [
                        {
                            "traceID": tid,
                            "rootServiceName": "frontend",
                            "rootTraceName": "GET /frontend",
                            "startTimeUnixNano": "1700000000000000000",
                            "durationMs": 5,
                        }
                        for tid in traces
                    ],
                    "metrics": {"inspectedTraces": len(traces)},
                },
            )
        tid = request.url.path.rsplit("/", 1)[1]
        return (
            httpx.Response(200, json=traces[tid])
            if tid in traces
            else httpx.Response(404, text="trace not found")
        )

    return handler


async def test_tempo_search_then_fetch_each_trace() -> None:
    t1, t2 = "0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"
    traces = {
        t1: otlp_trace(t1, SERVICES, 1_700_000_000_000_000_000, as_base64=True, error_on="payments"),
        t2: otlp_trace(t2, SERVICES[:2], 1_700_000_001_000_000_000, as_base64=False),
    }
    seen: list[httpx.URL] = []
    tempo = TempoSource(http(tempo_handler(traces, seen), "tempo"))
    got = [
        s
        async for s in tempo.spans(
            SpanQuery(start=1_699_999_999, end=1_700_000_010, services=("payments",), errors_only=False)
        )
    ]
    assert seen[0].params["q"] == '{ resource.service.name = "payments" }'
    assert [(s.trace_id, s.service, s.status) for s in got] == [
        (t1, "payments", "error")
    ]  # spans of the service
    every = [s async for s in tempo.spans(SpanQuery(start=1_699_999_999, end=1_700_000_010))]
    assert {s.trace_id for s in every} == {t1, t2} and len(every) == 5
    roots = [s for s in every if s.parent_span_id is None]
    assert {s.service for s in roots} == {"frontend"} and len(roots) == 2
    assert every[0].duration_ms == pytest.approx(5.0) and every[0].attributes["http.status_code"] == 500


def test_traceql_building() -> None:
    assert build_traceql(None, False, None) == "{ }"
    q = build_traceql(("a", "b.c"), True, 250)
    assert q == '{ resource.service.name =~ "a|b\\\\.c" && status = error && duration >= 250ms }'


async def test_tempo_missing_trace_is_a_source_error() -> None:
    seen: list[httpx.URL] = []
    handler = tempo_handler({"abc": {"batches": []}}, seen)

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/traces"):
            return httpx.Response(404, text="trace not found")
        return handler(request)

    with pytest.raises(SourceError, match="404"):
        [s async for s in TempoSource(http(broken, "tempo")).spans(SpanQuery(start=0, end=1))]


# ------------------------------------------------------------------ OTLP/JSON files


def test_otlp_ids_hex_or_base64() -> None:
    hex_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert otlp_id(hex_id.upper(), 16) == hex_id == otlp_id(b64(hex_id), 16)
    assert otlp_id("", 8) is None


async def test_otlp_files_as_traces_and_logs(tmp_path: Path) -> None:
    start = 1_700_000_000_000_000_000
    spans_doc = {"resourceSpans": otlp_trace("11" * 16, SERVICES, start, as_base64=False)["batches"]}
    logs_doc = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": str(start),
                                "severityText": "Error",
                                "body": {"stringValue": "pool exhausted"},
                                "traceId": "11" * 16,
                                "attributes": [{"key": "pool.size", "value": {"intValue": "4"}}],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    (tmp_path / "traces.jsonl").write_text(json.dumps(spans_doc) + "\n" + json.dumps(spans_doc) + "\n")
    (tmp_path / "logs.json.gz").write_bytes(gzip.compress(json.dumps(logs_doc).encode()))
    src = OtlpFileSource([tmp_path])
    spans = [s async for s in src.spans(SpanQuery())]
    assert len(spans) == 6 and {s.service for s in spans} == set(SERVICES)
    logs = [r async for r in src.logs(LogQuery(min_level="ERROR"))]
    assert [(r.service, r.message, r.level, r.attributes) for r in logs] == [
        ("payments", "pool exhausted", "ERROR", {"pool.size": 4})
    ]
    (tmp_path / "bad.jsonl").write_text('{"resourceSpans": []}\n{"broken\n')
    with pytest.raises(SourceError, match=r"bad\.jsonl:2"):
        [s async for s in src.spans(SpanQuery())]


async def test_jaeger_samples_the_whole_range_not_only_the_newest_traces(scenario: Scenario) -> None:
    traces = scenario.traces()
    budget = 24
    jaeger = JaegerSource(http(mocks.jaeger(traces), "jaeger"), traces_per_service=budget, windows=4)
    got = [s async for s in jaeger.spans(SpanQuery(start=scenario.t0, end=scenario.end, services=("frontend",)))]
    span = scenario.end - scenario.t0
    quarters = {min(3, int((s.start - scenario.t0) / span * 4)) for s in got}
    assert quarters == {0, 1, 2, 3}  # the oldest slice (the baseline) is sampled too
    assert len({s.trace_id for s in got}) <= budget
    assert len({(s.trace_id, s.span_id) for s in got}) == len(got)
