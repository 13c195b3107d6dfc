"""``day2ai serve`` as a real process on loopback (uvicorn): a bundle run streamed over SSE."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from tests.service.servers import Day2aiServe

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "http-token-77"


def test_a_bundle_run_streams_its_events_over_http(tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    shutil.copytree(ROOT / "examples" / "demo-bundle", bundles / "demo")
    serve = Day2aiServe(tmp_path / "serve")
    try:
        serve.start(["--bundle-root", str(bundles), "--log-level", "warning"], TOKEN)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=serve.url, headers=auth, timeout=120) as client:
            assert client.get("/healthz", headers={"Authorization": ""}).json() == {"status": "ok"}
            started = client.post("/v1/investigations", json={"bundle": "demo"})
            assert started.status_code == 202, started.text
            run_id = started.json()["id"]
            names, payloads = [], []
            with client.stream("GET", f"/v1/investigations/{run_id}/events") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        names.append(line.split(":", 1)[1].strip())
                    elif line.startswith("data:"):
                        payloads.append(json.loads(line.split(":", 1)[1]))
            assert names and names[-1] == "done" and names.count("done") == 1, (names, payloads[-1])
            assert {"tool_called", "evidence_added"} <= set(names), names
            assert [p["seq"] for p in payloads] == list(range(len(payloads)))
            final = client.get(f"/v1/investigations/{run_id}").json()
            assert final["status"] == "done"
            assert payloads[-1]["data"]["report"] == final["report"]
            assert client.post("/v1/investigations", json={"bundle": "demo/../.."}).status_code == 400
            assert client.get("/v1/investigations", headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        serve.stop()
