"""Failing live backends never read as a healthy system (#16): down, 404, a bad PromQL override, a
hanging or trickling server: each is a gap named in the report and on stderr, in bounded time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from day2ai.agent.offline import OfflineInvestigator
from day2ai.cli import main
from day2ai.errors import SourceError, SourceUnavailable
from day2ai.models import Report
from day2ai.render import report_rich
from day2ai.sources.base import MetricQuery, Sources
from day2ai.sources.config import live_incident
from day2ai.sources.guard import Guarded
from day2ai.sources.http import HttpClient, HttpSettings, overall_deadline
from day2ai.sources.prometheus import PrometheusSource
from tests.sources.servers.flaky import Behaviour, serve_in_thread
from tests.sources.servers.prom import free_port

NOW = 1_800_000_000.0


def _matrix(service: str) -> dict[str, object]:
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"service": service}, "values": [[NOW - 60, "1"], [NOW, "2"]]}]}}


def _prom(handler: httpx.MockTransport, **settings: object) -> PrometheusSource:
    client = HttpClient("prometheus", HttpSettings(url="http://prom.test", retries=0, **settings),  # type: ignore[arg-type]
                        transport=handler)
    return PrometheusSource(client, queries={"request_rate": "BROKEN((", "custom_ok": "up"})


async def _collect(src: PrometheusSource, names: tuple[str, ...]) -> tuple[list[str], Exception | None]:
    got: list[str] = []
    try:
        async for s in src.series(MetricQuery(names=names, start=NOW - 600, end=NOW)):
            got.append(s.name)
    except SourceError as exc:
        return got, exc
    return got, None


async def test_one_bad_query_keeps_the_metrics_after_it() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if "BROKEN" in request.url.params["query"]:
            return httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "parse error"})
        return httpx.Response(200, json=_matrix("a"))

    src = _prom(httpx.MockTransport(handle))
    got, err = await _collect(src, ("request_rate", "custom_ok", "request_rate"))
    assert got == ["custom_ok"]  # the query after the broken one was made and kept
    assert err is not None and "request_rate" in str(err) and "parse error" in str(err)


async def _investigate_with(handler: httpx.MockTransport) -> Report:
    src = Guarded(_prom(handler), "prometheus")
    incident = live_incident("a", "30m", now=NOW)
    return await OfflineInvestigator().investigate(incident, Sources(metrics=src, names={"metrics": "prometheus"}))


@pytest.mark.parametrize(("status", "words"), [(404, "HTTP 404"), (503, "HTTP 503")])
async def test_wrong_url_or_down_backend_is_a_named_gap_not_health(status: int, words: str) -> None:
    report = await _investigate_with(httpx.MockTransport(lambda r: httpx.Response(status, text="nope")))
    assert any(g.source == "metrics" and words in g.reason for g in report.gaps), report.gaps
    console = Console(record=True, width=200)
    console.print(report_rich(report))
    text = console.export_text()
    assert "nothing anomalous" not in text and "does not mean the system is healthy" in text


def test_cli_unreachable_backend_warns_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(f"metrics: {{type: prometheus, url: 'http://127.0.0.1:{free_port()}', retries: 0}}\n")
    assert main(["investigate", "--config", str(site), "--service", "a"]) == 0
    out = capsys.readouterr()
    assert "nothing anomalous" not in out.out
    assert any(line.startswith("day2ai: warning:") and "cannot connect" in line for line in out.err.splitlines())


async def test_trickling_backend_is_cut_at_the_request_deadline() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(0.2)

    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=trickle()))
    client = HttpClient("prometheus", HttpSettings(url="http://prom.test", retries=0, deadline=1.0, read_timeout=30),
                        transport=transport)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="request deadline of 1 s"):
        await client.get_json("/api/v1/query_range")
    assert time.monotonic() - started < 10


async def test_overall_deadline_bounds_every_request() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={})

    client = HttpClient("loki", HttpSettings(url="http://loki.test", retries=0), transport=httpx.MockTransport(hang))
    started = time.monotonic()
    with overall_deadline(0.5):
        with pytest.raises(SourceUnavailable, match=r"investigation deadline of 0\.5 s"):
            await client.get_json("/a")
        with pytest.raises(SourceUnavailable, match="not sent"):  # the time is used up: no new request
            await client.get_json("/b")
    assert time.monotonic() - started < 10


def test_cli_deadline_bounds_hanging_backends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve_in_thread({"/api/v1/": Behaviour("hang", hang_seconds=20)}) as srv:
        site = tmp_path / "site.yaml"
        site.write_text(f"metrics: {{type: prometheus, url: '{srv.url}', retries: 0}}\n")
        started = time.monotonic()
        code = main(["investigate", "--config", str(site), "--service", "a", "--deadline", "2", "--format", "json"])
        took = time.monotonic() - started
    out = capsys.readouterr()
    assert code == 0 and took < 18, out.err  # generous: the server would hang 20 s per request
    assert "investigation deadline of 2 s" in out.out and "investigation deadline" in out.err


def test_cli_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.bundle_factory import write_bundle

    root = write_bundle(tmp_path / "b")
    assert main(["investigate", str(root), "--knowledge", str(tmp_path / "nonexistent")]) == 2
    assert "--knowledge" in capsys.readouterr().err
    site = tmp_path / "site.yaml"
    site.write_text("metrics: {type: prometheus, url: 'http://127.0.0.1:9'}\n")
    assert main(["investigate", "--config", str(site), "--service", "a", "--since", "99999999w"]) == 2
    err = capsys.readouterr().err
    assert "--since" in err and err.count("\n") == 1
