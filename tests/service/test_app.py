"""The HTTP service through its ASGI app (httpx ASGITransport): auth, bundle root, runs, events,
notifications and the Alertmanager webhook's parsing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from day2ai.api import investigate
from day2ai.errors import InputError
from day2ai.service import ServiceSettings, create_app
from day2ai.service.alertmanager import alert_incidents, parse_payload

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TOKEN = "s3cret-token"


class Receiver:
    """A mock transport standing in for the notify URL: records what is POSTed."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.posts.append({"url": str(request.url), "body": json.loads(request.content)})
        self.arrived.set()
        return httpx.Response(200, text="ok")


@pytest.fixture
async def client_and_receiver(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Receiver]]:
    receiver = Receiver()
    root = tmp_path / "bundles"
    root.mkdir()
    (root / "demo").symlink_to(EXAMPLES / "demo-bundle")  # a symlink out of the root is refused
    (root / "empty").mkdir()
    shutil.copytree(EXAMPLES / "demo-bundle", root / "copy")
    shutil.copytree(EXAMPLES / "demo-bundle", tmp_path / "outside")
    settings = ServiceSettings(token=TOKEN, bundle_root=root, notify_url="http://hooks.test/slack",
                               runbook_base_url="https://wiki.example/ops")
    app = create_app(settings, transport=httpx.MockTransport(receiver.handler))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://day2ai.test",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client, receiver
    await app.state.service.runs.aclose()


async def _wait_done(client: httpx.AsyncClient, run_id: str, timeout: float = 120) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            body = (await client.get(f"/v1/investigations/{run_id}")).json()
            if body["status"] != "running":
                return dict(body)
            await asyncio.sleep(0.1)


async def test_auth_is_required_everywhere_but_healthz(client_and_receiver: Any) -> None:
    client, _ = client_and_receiver
    anon = {"Authorization": ""}
    assert (await client.get("/healthz", headers=anon)).json() == {"status": "ok"}
    for method, path in [("GET", "/v1/investigations"), ("POST", "/v1/investigations"),
                         ("GET", "/v1/investigations/x"), ("GET", "/v1/investigations/x/events"),
                         ("POST", "/v1/alertmanager")]:
        for headers in (anon, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
    assert (await client.get("/v1/investigations")).status_code == 200


@pytest.mark.parametrize("bundle", ["../outside", str(EXAMPLES / "demo-bundle"), "/etc", "demo", "empty/../../",
                                    "missing", "", "copy/../.."])
async def test_bundles_outside_the_root_are_refused(client_and_receiver: Any, bundle: str) -> None:
    client, _ = client_and_receiver
    response = await client.post("/v1/investigations", json={"bundle": bundle})
    assert response.status_code == 400 and "bundle" in response.json()["error"]


async def test_bad_requests_answer_400(client_and_receiver: Any) -> None:
    client, _ = client_and_receiver
    assert (await client.post("/v1/investigations", content=b"{not json")).status_code == 400
    assert (await client.post("/v1/investigations", json=[1])).status_code == 400
    assert (await client.post("/v1/investigations", json={"bundle": "copy", "service": "x"})).status_code == 400
    live = await client.post("/v1/investigations", json={"service": "checkout", "since": "1h"})
    assert live.status_code == 400 and "--config" in live.json()["error"]
    assert (await client.get("/v1/investigations/nope")).status_code == 404
    assert (await client.post("/v1/alertmanager", json={"version": "3", "alerts": []})).status_code == 400


async def test_bundle_run_reports_streams_and_notifies(client_and_receiver: Any) -> None:
    client, receiver = client_and_receiver
    response = await client.post("/v1/investigations", json={"bundle": "copy"})
    assert response.status_code == 202
    started = response.json()
    assert started["status"] == "running"
    body = await _wait_done(client, started["id"])
    assert body["status"] == "done", body
    expected = investigate(EXAMPLES / "demo-bundle").to_contract()
    assert body["report"]["incident_id"] == expected["incident_id"]
    assert [h["service"] for h in body["report"]["hypotheses"]] == [h["service"] for h in expected["hypotheses"]]

    events = await client.get(f"/v1/investigations/{started['id']}/events")
    assert events.headers["content-type"].startswith("text/event-stream")
    names = [line.split(":", 1)[1].strip() for line in events.text.splitlines() if line.startswith("event:")]
    assert names[-1] == "done" and names.count("done") == 1 and len(names) > 2
    data = [json.loads(line.split(":", 1)[1]) for line in events.text.splitlines() if line.startswith("data:")]
    assert data[-1]["data"]["report"]["incident_id"] == expected["incident_id"]

    async with asyncio.timeout(10):
        await receiver.arrived.wait()
    (post,) = receiver.posts
    assert post["url"] == "http://hooks.test/slack"
    message = post["body"]
    assert set(message) == {"text", "blocks"} and message["blocks"][0]["type"] == "header"
    assert expected["hypotheses"][0]["service"] in message["text"]


async def test_a_failing_run_ends_failed_and_notifies(client_and_receiver: Any) -> None:
    client, receiver = client_and_receiver
    run_id = (await client.post("/v1/investigations", json={"bundle": "empty"})).json()["id"]
    body = await _wait_done(client, run_id)
    assert body["status"] == "failed" and body["error"] and "report" not in body
    events = await client.get(f"/v1/investigations/{run_id}/events")
    names = [line.split(":", 1)[1].strip() for line in events.text.splitlines() if line.startswith("event:")]
    assert names[-1] == "failed"
    async with asyncio.timeout(10):
        await receiver.arrived.wait()
    assert "failed" in receiver.posts[0]["body"]["text"]


def _payload(**alert: Any) -> dict[str, Any]:
    base = {"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "payments"},
            "annotations": {"summary": "payments errors <!channel>"}, "startsAt": "2026-12-04T10:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc123"}
    base.update(alert)
    return {"version": "4", "status": "firing", "receiver": "day2ai", "groupKey": "{}:{}",
            "commonLabels": {"severity": "page"}, "alerts": [base]}


def test_alertmanager_payload_becomes_incidents() -> None:
    now = 1_796_400_000.0  # after startsAt
    payload = parse_payload(_payload())
    (item,), skipped = alert_incidents(payload, lookback=1800, now=now)
    assert not skipped and item.service == "payments"
    inc = item.incident
    assert inc.detected_at.isoformat().startswith("2026-12-04T10:00:00.123")
    assert inc.window.start_s == pytest.approx(inc.detected_at.timestamp() - 1800)
    assert inc.window.end_s == now and inc.baseline is not None and inc.baseline.end == inc.window.start
    assert inc.symptom.service == "payments" and inc.alert is not None and inc.alert.name == "HighErrorRate"
    assert inc.alert.labels["severity"] == "page"  # common labels merged in
    assert inc.title == "payments errors <!channel>"
    leaky = parse_payload(_payload(annotations={"summary": "db down, password=hunter2-very-secret"}))
    (item,), _ = alert_incidents(leaky, now=now)
    assert "hunter2-very-secret" not in item.incident.title


def test_alertmanager_skips_resolved_and_unlabelled_alerts() -> None:
    payload = parse_payload({"version": "4", "alerts": [
        _payload(status="resolved")["alerts"][0],
        _payload(labels={"alertname": "NoService"})["alerts"][0],
        _payload(labels={"alertname": "ByJob", "job": "checkout"})["alerts"][0],
    ]})
    items, skipped = alert_incidents(payload, now=1_796_400_000.0)
    assert [i.service for i in items] == ["checkout"]
    assert sorted(s.reason.split()[0] for s in skipped) == ["no", "status"]
    with pytest.raises(InputError, match="startsAt"):
        alert_incidents(parse_payload(_payload(startsAt="yesterday")))
    with pytest.raises(InputError, match="alerts"):
        parse_payload({"version": "4", "alerts": "x"})


async def test_alertmanager_without_config_is_refused(client_and_receiver: Any) -> None:
    client, _ = client_and_receiver
    response = await client.post("/v1/alertmanager", json=_payload())
    assert response.status_code == 400 and "--config" in response.json()["error"]


@pytest.mark.parametrize(("args", "named"), [
    (["serve", "--bundle-root", "nope"], "bundle-root"),
    (["serve", "--config", "nope.yaml"], "nope.yaml"),
    (["serve", "--alert-lookback", "soon"], "soon"),
    (["mcp", "--root", "nope"], "--root"),
])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str], named: str) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from day2ai.cli import run; run()", *args], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path, env={**os.environ, "DAY2AI_API_TOKEN": ""})
    assert out.returncode == 2 and named in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
