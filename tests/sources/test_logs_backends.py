"""Loki and Elasticsearch/OpenSearch sources against mock transports of their documented APIs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from day2ai.errors import SourceError
from day2ai.sources.base import LogQuery, LogsSource
from day2ai.sources.elasticsearch import ElasticsearchSource, EsFields, get_path, level_terms
from day2ai.sources.http import HttpAuth, HttpClient, HttpSettings
from day2ai.sources.loki import LokiSource, build_logql
from day2ai.timeutil import iso
from tests.sources.servers import mocks
from tests.sources.servers.scenario import SERVICES, Scenario

TOKEN = "loki-token-123"


def http(handler: mocks.Handler, name: str = "loki", **kw: Any) -> HttpClient:
    settings = HttpSettings(
        url="http://backend.test", retries=0, auth=HttpAuth(bearer_token=SecretStr(TOKEN)), **kw
    )
    return HttpClient(name, settings, transport=httpx.MockTransport(mocks.authed(handler, TOKEN)))


# ------------------------------------------------------------------ Loki


def loki_source(
    logs: list[dict[str, Any]], page_size: int = 50, **kw: Any
) -> tuple[LokiSource, mocks.Router]:
    router = mocks.Router().add("/loki/api/v1", mocks.loki(logs))
    return LokiSource(http(router, **kw), page_size=page_size), router


async def test_loki_pages_forward_through_the_whole_range(scenario: Scenario) -> None:
    logs = scenario.logs()
    loki, router = loki_source(logs, page_size=97)
    assert isinstance(loki, LogsSource)
    start, end = scenario.t0 + 3000, scenario.t0 + 7000
    got = [r async for r in loki.logs(LogQuery(start=start, end=end))]
    want = [r for r in logs if start <= r["ts"] <= end]
    assert len(got) == len(want) and router.calls["/loki/api/v1"] > len(want) // 97
    assert [r.timestamp for r in got] == sorted(r.timestamp for r in got)
    assert sorted((r.service, r.message) for r in got) == sorted((r["service"], r["line"]) for r in want)
    assert {r.level for r in got} == {r["level"].upper() for r in want}
    assert got[0].attributes == {"namespace": "shop"}


async def test_loki_boundary_timestamps_are_neither_lost_nor_repeated() -> None:
    same = [{"ts": 1000.0, "service": "a", "level": "info", "line": f"line {i}"} for i in range(7)]
    later = [{"ts": 1001.0 + i, "service": "a", "level": "info", "line": f"later {i}"} for i in range(5)]
    loki, _ = loki_source(same + later, page_size=4)
    got = [r.message async for r in loki.logs(LogQuery(start=999, end=2000))]
    assert sorted(got) == sorted(r["line"] for r in same + later)


async def test_loki_filters_services_text_and_level(scenario: Scenario) -> None:
    loki, _ = loki_source(scenario.logs(), page_size=500)
    q = LogQuery(
        start=scenario.t0,
        end=scenario.end,
        services=("payments", "checkout"),
        min_level="ERROR",
        contains_text="pool",
    )
    got = [r async for r in loki.logs(q)]
    assert got and all(r.service == "payments" and "pool" in r.message and r.level == "ERROR" for r in got)
    assert all(r.timestamp >= scenario.onset for r in got)


async def test_loki_limit_stops_reading(scenario: Scenario) -> None:
    loki, router = loki_source(scenario.logs(), page_size=20)
    got = [r async for r in loki.logs(LogQuery(start=scenario.t0, end=scenario.end, limit=30))]
    assert len(got) == 30 and router.calls["/loki/api/v1"] == 2


async def test_loki_label_discovery(scenario: Scenario) -> None:
    loki, _ = loki_source(scenario.logs())
    assert "service_name" in await loki.labels()
    assert await loki.services() == sorted(SERVICES)


async def test_loki_json_lines_and_structured_metadata() -> None:
    line = json.dumps({"msg": "db down", "level": "warning", "trace_id": "abc123"})

    def handler(request: httpx.Request) -> httpx.Response:
        result = [
            {
                "stream": {"service_name": "api"},
                "values": [
                    ["1700000000000000000", line],
                    ["1700000000500000000", "plain text", {"structuredMetadata": {"traceID": "t9"}}],
                ],
            }
        ]
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "streams", "result": result}}
        )

    got = [r async for r in LokiSource(http(handler)).logs(LogQuery(start=1699999999, end=1700000001))]
    assert (got[0].message, got[0].level, got[0].trace_id) == ("db down", "WARN", "abc123")
    assert (got[1].message, got[1].trace_id, got[1].timestamp) == ("plain text", "t9", 1700000000.5)


async def test_loki_errors_become_source_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="parse error at line 1, col 5: syntax error: unexpected IDENTIFIER")

    with pytest.raises(SourceError, match="HTTP 400: parse error"):
        [r async for r in LokiSource(http(handler)).logs(LogQuery(start=0, end=10))]


def test_logql_escapes_values() -> None:
    assert build_logql("app", ["a"], None) == '{app="a"}'
    assert build_logql("app", ["b.x", "a"], 'say "hi"') == '{app=~"a|b\\\\.x"} |= "say \\"hi\\""'
    assert build_logql("app", None, None) == '{app=~".+"}'


# ------------------------------------------------------------------ Elasticsearch / OpenSearch


def es_docs(scenario: Scenario) -> list[dict[str, Any]]:
    docs = []
    for i, r in enumerate(scenario.logs()):
        docs.append(
            {
                "_index": "logs-2026.11.26",
                "_id": str(i),
                "_source": {
                    "@timestamp": iso(r["ts"])[:-1] + f".{round(r['ts'] % 1 * 1000):03d}Z",
                    "service": {"name": r["service"]},
                    "log": {"level": r["level"]},
                    "message": r["line"],
                    "event": {"id": f"{i:08d}"},
                    "host.name": "node-1",
                },
            }
        )
    return docs


def es_handler(docs: list[dict[str, Any]], seen: list[dict[str, Any]]) -> mocks.Handler:
    """``_search`` with bool/filter range+terms+match_phrase, sort and search_after."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        hits = []
        for d in docs:
            src = d["_source"]
            ok = True
            for f in body["query"]["bool"]["filter"]:
                kind, spec = next(iter(f.items()))
                field, cond = next(iter(spec.items()))
                value = get_path(src, field)
                if kind == "range":
                    from day2ai.timeutil import parse_timestamp

                    ms = parse_timestamp(value) * 1000
                    ok &= cond["gte"] <= ms <= cond["lte"]
                elif kind == "terms":
                    ok &= value in cond
                elif kind == "match_phrase":
                    ok &= cond in value
            if ok:
                from day2ai.timeutil import parse_timestamp

                hits.append(
                    {**d, "sort": [int(parse_timestamp(src["@timestamp"]) * 1000), src["event"]["id"]]}
                )
        hits.sort(key=lambda h: h["sort"])
        if "search_after" in body:
            hits = [h for h in hits if h["sort"] > body["search_after"]]
        return httpx.Response(
            200, json={"took": 3, "timed_out": False, "hits": {"hits": hits[: body["size"]]}}
        )

    return handler


async def test_elasticsearch_search_after_pages_everything(scenario: Scenario) -> None:
    docs, seen = es_docs(scenario), []
    es = ElasticsearchSource(
        http(es_handler(docs, seen), "elasticsearch"), page_size=200, fields=EsFields(tiebreaker="event.id")
    )
    start, end = scenario.t0 + 1000, scenario.t0 + 5000
    got = [r async for r in es.logs(LogQuery(start=start, end=end))]
    want = [r for r in scenario.logs() if start <= round(r["ts"], 3) <= end]
    assert len(got) == len(want) and len(seen) == len(want) // 200 + 1
    assert "search_after" not in seen[0] and seen[1]["search_after"]
    assert got[0].attributes["host.name"] == "node-1" and got[0].service in SERVICES


async def test_elasticsearch_level_service_and_text_filters(scenario: Scenario) -> None:
    seen: list[dict[str, Any]] = []
    es = ElasticsearchSource(http(es_handler(es_docs(scenario), seen), "elasticsearch"))
    q = LogQuery(
        start=scenario.t0, end=scenario.end, services=("checkout",), min_level="warn", contains_text="503"
    )
    got = [r async for r in es.logs(q)]
    assert got and all(r.service == "checkout" and r.level == "ERROR" and "503" in r.message for r in got)
    assert "warning" in seen[0]["query"]["bool"]["filter"][2]["terms"]["log.level"]


def test_level_terms_and_dotted_paths() -> None:
    assert "info" not in level_terms("ERROR") and {"error", "ERROR", "fatal", "critical"} <= set(
        level_terms("ERROR")
    )
    assert get_path({"service.name": "a"}, "service.name") == "a"
    assert get_path({"service": {"name": "b"}}, "service.name") == "b"
    assert get_path({"a": {"b.c": 1}}, "a.b.c") == 1


async def test_elasticsearch_error_and_stuck_cursor() -> None:
    def error(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={"error": {"type": "index_not_found_exception", "reason": "no such index"}, "status": 404},
        )

    with pytest.raises(SourceError, match="no such index"):
        [r async for r in ElasticsearchSource(http(error, "elasticsearch")).logs(LogQuery(start=0, end=1))]

    def stuck(request: httpx.Request) -> httpx.Response:
        hit = {"_source": {"@timestamp": 0.5, "message": "x"}, "sort": [500]}
        return httpx.Response(200, json={"hits": {"hits": [hit]}})

    with pytest.raises(SourceError, match="no new 'sort' values"):
        es = ElasticsearchSource(http(stuck, "elasticsearch"), page_size=1)
        [r async for r in es.logs(LogQuery(start=0, end=1))]
