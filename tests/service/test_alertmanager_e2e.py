"""End to end, all real and on loopback: Prometheus evaluates an alert rule over backfilled data,
Alertmanager routes the firing alert to ``day2ai serve``'s webhook, day2ai investigates against that
Prometheus, and the Slack-shaped message arrives at a local receiver.

The data is the backend tests' scenario (``tests/sources/servers/scenario.py``): payments' new
revision exhausts its connection pool, payments answers 40% errors, checkout 20%, frontend none; the
rule fires above 30%, so exactly one alert, for payments.
"""

from __future__ import annotations

import json
import queue
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.service.servers import AlertingPrometheus, Alertmanager, Day2aiServe, Receiver, require
from tests.sources.servers.prom import free_port
from tests.sources.servers.scenario import Scenario

pytestmark = [pytest.mark.alertmanager, pytest.mark.slow]

TOKEN = "e2e-token-1f4c"
DEADLINE = 180.0  # seconds from the servers being up to the message arriving


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    require("prometheus", "promtool", "prometheus-alertmanager")
    # the data runs up to half a minute ago: the alert fires now, on data the investigation can see
    scenario = Scenario(t0=time.time() - 2.5 * 3600 - 30)
    with ExitStack() as stop:
        receiver = Receiver().start()
        stop.callback(receiver.stop)
        serve_port_holder = Day2aiServe(tmp_path / "serve")
        am = Alertmanager(tmp_path / "alertmanager")
        prom = AlertingPrometheus(tmp_path / "prometheus")
        stop.callback(prom.stop)
        stop.callback(am.stop)
        stop.callback(serve_port_holder.stop)
        site = tmp_path / "site.yaml"
        site.write_text(f"site: e2e\ndefaults: {{retries: 1, read_timeout: 20}}\n"
                        f"metrics: {{type: prometheus, url: '{prom.url}'}}\n"
                        "topology:\n  services:\n    - {name: frontend, depends_on: [checkout]}\n"
                        "    - {name: checkout, depends_on: [payments]}\n    - {name: payments}\n")
        bundles = tmp_path / "bundles"
        bundles.mkdir()
        serve_port_holder.start(["--config", str(site), "--notify-url", receiver.url, "--alert-lookback", "1h",
                                 "--bundle-root", str(bundles), "--log-level", "warning"], TOKEN)
        am.start(f"{serve_port_holder.url}/v1/alertmanager", TOKEN)
        prom.start(scenario.openmetrics(), am.port)
        yield {"receiver": receiver, "serve": serve_port_holder, "am": am, "prom": prom, "scenario": scenario}


def test_a_firing_alert_becomes_an_investigation_and_a_slack_message(stack: dict[str, Any]) -> None:
    receiver: Receiver = stack["receiver"]
    serve: Day2aiServe = stack["serve"]
    try:
        message = receiver.messages.get(timeout=DEADLINE)
    except queue.Empty:
        pytest.fail("no message arrived; logs:\n" + "\n".join(
            f"--- {s.name}\n{s.tail()}" for s in (stack["prom"], stack["am"], serve)))
    assert message["path"] == "/slack"
    body = message["body"]
    assert set(body) == {"text", "blocks"} and body["blocks"][0]["type"] == "header"
    assert "payments" in body["blocks"][0]["text"]["text"]  # the alert's summary annotation is the title

    runs = _get(f"{serve.url}/v1/investigations")["investigations"]
    assert len(runs) == 1 and runs[0]["label"] == "alert HighErrorRatio on payments", runs
    run = _get(f"{serve.url}/v1/investigations/{runs[0]['id']}")
    assert run["status"] == "done", run
    report = run["report"]
    assert report["incident_id"].startswith("alert-HighErrorRatio-payments-")
    # the investigation ran against the real Prometheus: metrics evidence, and no metrics gap
    assert report["usage"]["tool_calls"] > 0
    assert not [g for g in report["gaps"] if g["source"] in ("metrics", "prometheus")], report["gaps"]
    cited = [e for h in report["hypotheses"] for e in h["evidence"]]
    assert any(e["source"] == "metrics" for e in cited), report
    culprit = stack["scenario"].culprit
    assert culprit in [h["service"] for h in report["hypotheses"][:2]], report["hypotheses"]
    shown = "\n".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert f"*{report['hypotheses'][0]['service']}*" in shown  # Slack bold, the best hypothesis first

    # the same alert, sent again by Alertmanager, is not investigated twice; nothing else arrives
    time.sleep(2)
    assert len(_get(f"{serve.url}/v1/investigations")["investigations"]) == 1
    assert receiver.messages.empty()


def test_the_webhook_refuses_alertmanager_without_the_token(tmp_path: Path) -> None:
    """The service answers 401 to an unauthenticated webhook (what Alertmanager sees if misconfigured)."""
    require("prometheus-alertmanager")
    serve = Day2aiServe(tmp_path / "serve")
    site = tmp_path / "site.yaml"
    site.write_text(f"metrics: {{type: prometheus, url: 'http://127.0.0.1:{free_port()}'}}\n")
    try:
        serve.start(["--config", str(site), "--log-level", "warning"], TOKEN)
        request = urllib.request.Request(f"{serve.url}/v1/alertmanager", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 401
    finally:
        serve.stop()
