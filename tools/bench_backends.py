"""Benchmark the live-backend path: real Prometheus/VictoriaMetrics startup, a live offline
investigation (real Prometheus + mock Loki/Jaeger/Kubernetes), recording it into a bundle, replaying
the bundle, and how much of a 50 MB answer is read before the size cap stops it.

Run from the repository root: ``.venv/bin/python tools/bench_backends.py`` (needs
``tools/install_prometheus.sh``). Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from day2ai.agent.offline import OfflineInvestigator
from day2ai.errors import SourceError
from day2ai.sources.bundle import load_bundle
from day2ai.sources.config import close_sources, live_incident
from day2ai.sources.http import HttpClient, HttpSettings
from day2ai.sources.record import record_bundle
from tests.sources.servers.flaky import Behaviour, FlakyServer
from tests.sources.servers.prom import PrometheusServer, VictoriaMetricsServer
from tests.sources.servers.scenario import Scenario
from tests.sources.servers.site import TOKENS, SplitTransport, live_site, mock_transport


def timed_start(server: PrometheusServer) -> float:
    started = time.perf_counter()
    server.start()
    return time.perf_counter() - started


async def investigate_and_record(url: str, scenario: Scenario, out: Path) -> dict[str, object]:
    site = live_site(url)
    incident = live_incident("frontend", "1h", now=scenario.end)
    transport = SplitTransport(mock_transport(scenario))
    sources = site.build_sources(transport=transport)
    t = time.perf_counter()
    live = await OfflineInvestigator().investigate(incident, sources)
    live_s = time.perf_counter() - t
    await close_sources(sources)
    sources = site.build_sources(transport=transport)
    t = time.perf_counter()
    summary = await record_bundle(incident, sources, out)
    record_s = time.perf_counter() - t
    await close_sources(sources)
    await transport.aclose()
    bundle = load_bundle(out)
    t = time.perf_counter()
    replay = await OfflineInvestigator().investigate(bundle.incident, bundle.sources)
    replay_s = time.perf_counter() - t
    size = sum(p.stat().st_size for p in out.iterdir())
    same = [(h.service, h.fault, h.confidence) for h in live.hypotheses] == [
        (h.service, h.fault, h.confidence) for h in replay.hypotheses]
    return {"live_investigation_s": round(live_s, 2), "record_s": round(record_s, 2),
            "replay_investigation_s": round(replay_s, 2), "bundle_bytes": size, "counts": summary.counts,
            "same_hypotheses": same, "top": live.hypotheses[0].service if live.hypotheses else None}


async def cap_read() -> dict[str, object]:
    async with FlakyServer({"/big": Behaviour("huge")}) as srv:
        client = HttpClient("bench", HttpSettings(url=srv.url, retries=0, max_response_bytes=1_000_000))
        t = time.perf_counter()
        with contextlib.suppress(SourceError):
            await client.get_json("/big")
        elapsed = time.perf_counter() - t
        await client.aclose()
        await asyncio.sleep(0.3)
        return {"cap_bytes": 1_000_000, "server_sent_bytes": srv.sent_bytes.get("/big", 0),
                "body_bytes": 50 * 1024 * 1024, "seconds": round(elapsed, 3)}


def main() -> None:
    for k, v in TOKENS.items():
        os.environ[k] = v
    scenario = Scenario.recent(time.time())
    result: dict[str, object] = {"scenario": {"hours": scenario.hours, "series_samples":
                                              scenario.openmetrics().count("\n") - 1}}
    with tempfile.TemporaryDirectory() as tmp:
        prom = PrometheusServer(Path(tmp) / "p", scenario.openmetrics())
        (Path(tmp) / "p").mkdir()
        vm = VictoriaMetricsServer(Path(tmp) / "v", scenario.openmetrics())
        (Path(tmp) / "v").mkdir()
        try:
            result["prometheus_backfill_and_ready_s"] = round(timed_start(prom), 2)
            result["victoriametrics_ready_and_import_s"] = round(timed_start(vm), 2)
            for name, server in (("prometheus", prom), ("victoriametrics", vm)):
                result[name] = asyncio.run(investigate_and_record(server.url, scenario, Path(tmp) / name))
        finally:
            prom.stop()
            vm.stop()
    result["size_cap"] = asyncio.run(cap_read())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
