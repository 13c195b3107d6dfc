"""``day2ai mcp`` through the official SDK's own stdio client: the tools are listed, and
``investigate_bundle`` answers the JSON of ``investigate --format json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from day2ai.api import investigate
from day2ai.mcp import build_server

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "examples" / "demo-bundle"


def _params(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "day2ai", "mcp", *args],
                                 cwd=str(ROOT))


def _text(result: object) -> str:
    return "".join(getattr(c, "text", "") for c in getattr(result, "content", []))


async def test_stdio_server_lists_tools_and_investigates_a_bundle() -> None:
    expected = investigate(BUNDLE).to_contract()
    async with Client(_params(), read_timeout_seconds=120) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {"investigate_bundle", "search_runbooks", "metric_anomalies", "log_patterns", "trace_summary",
                "recent_changes", "dependencies"} <= set(tools)
        assert tools["investigate_bundle"].input_schema["required"] == ["path"]
        assert set(tools["search_runbooks"].input_schema["required"]) == {"query", "index"}
        assert tools["metric_anomalies"].input_schema["required"] == ["bundle"]

        result = await client.call_tool("investigate_bundle", {"path": str(BUNDLE)})
        assert not result.is_error, _text(result)
        report = json.loads(_text(result))
        assert report["incident_id"] == expected["incident_id"]
        assert [h["service"] for h in report["hypotheses"]] == [h["service"] for h in expected["hypotheses"]]
        assert set(report) >= {"incident_id", "hypotheses", "usage"}

        anomalies = await client.call_tool("metric_anomalies", {"bundle": str(BUNDLE)})
        assert not anomalies.is_error and expected["hypotheses"][0]["service"] in _text(anomalies)

        missing = await client.call_tool("investigate_bundle", {"path": str(ROOT / "no-such-bundle")})
        assert missing.is_error and "no-such-bundle" in _text(missing) and "Traceback" not in _text(missing)


async def test_root_confines_bundles(tmp_path: Path) -> None:
    async with Client(build_server(root=tmp_path)) as client:
        result = await client.call_tool("investigate_bundle", {"path": str(BUNDLE)})
        assert result.is_error and "outside" in _text(result)
        result = await client.call_tool("trace_summary", {"bundle": "../x"})
        assert result.is_error


async def test_search_runbooks_needs_an_index(tmp_path: Path) -> None:
    async with Client(build_server()) as client:
        result = await client.call_tool("search_runbooks", {"query": "pool exhausted", "index": str(tmp_path)})
        assert result.is_error and "kb ingest" in _text(result)


async def test_search_runbooks_finds_the_runbook_on_the_topic(tmp_path: Path) -> None:
    from day2ai.knowledge import KnowledgeBase

    corpus = tmp_path / "corpus" / "runbooks"
    corpus.mkdir(parents=True)
    names = ["connection-pools.md", "disk-space.md", "cpu-throttling.md"]
    for name in names:
        (corpus / name).write_text((ROOT / "evals" / "knowledge" / "runbooks" / name).read_text())
    KnowledgeBase(path=tmp_path / "index").ingest(tmp_path / "corpus")
    async with Client(build_server()) as client:
        for query, expected in [("database connection pool exhausted, requests waiting for a connection",
                                 "connection-pools.md"), ("no space left on device, volume full", "disk-space.md")]:
            result = await client.call_tool("search_runbooks", {"query": query, "index": str(tmp_path / "index"),
                                                                "k": 2})
            assert not result.is_error, _text(result)
            hits = result.structured_content["result"]  # a list is wrapped as {"result": [...]}
            assert hits[0]["path"].endswith(expected) and len(hits) <= 2
            assert set(hits[0]) >= {"path", "anchor", "title", "kind", "score"}
    # the investigation tools that read knowledge use the server's --index
    async with Client(build_server(index=tmp_path / "index")) as client:
        result = await client.call_tool("search_knowledge", {"bundle": str(BUNDLE), "query": "no space left"})
        assert not result.is_error and "disk-space.md" in _text(result), _text(result)
