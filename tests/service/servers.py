"""Real servers of the end-to-end service test, all on 127.0.0.1 with free ports:

- ``AlertingPrometheus``: Prometheus over a TSDB backfilled with promtool, evaluating one alert
  rule every second and sending firing alerts to an Alertmanager;
- ``Alertmanager``: the Debian ``prometheus-alertmanager``, routing every alert to a webhook;
- ``Day2aiServe``: ``day2ai serve`` in a subprocess;
- ``Receiver``: a tiny HTTP server recording what is POSTed to it (the Slack stand-in).

Each ``start()`` waits for readiness (bounded) and ``stop()`` ends what it started.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.sources.servers.prom import _wait_ready, free_port, require_binaries, stop_process

HINTS = {
    "prometheus": "run tools/install_prometheus.sh (Debian package 'prometheus')",
    "promtool": "run tools/install_prometheus.sh (Debian package 'prometheus')",
    "prometheus-alertmanager": "run tools/install_alertmanager.sh (Debian package 'prometheus-alertmanager')",
}


def require(*names: str) -> dict[str, str]:
    """Paths of the binaries; fail in CI (``CI=true``), skip locally, when one is missing."""
    return require_binaries(*names, hints=HINTS)


class Process:
    """A server subprocess with its log in ``workdir``."""

    name = "server"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}.log"

    def _spawn(self, argv: list[str], ready_url: str, timeout: float, env: dict[str, str] | None = None) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        if not _wait_ready(self.proc, ready_url, timeout, self.tail()):
            self.stop()
            raise RuntimeError(f"{self.name} not ready after {timeout} s: {self.tail()}")

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        self.proc = None


RULES = """\
groups:
  - name: day2ai-e2e
    interval: 1s
    rules:
      - alert: HighErrorRatio
        expr: >-
          sum by (service) (increase(http_server_request_duration_seconds_count{http_response_status_code="500"}[30m]))
          / sum by (service) (increase(http_server_request_duration_seconds_count[30m])) > 0.3
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.service }}: error ratio {{ $value | humanizePercentage }}"
          description: "More than 30% of requests to {{ $labels.service }} fail."
"""


class AlertingPrometheus(Process):
    name = "prometheus"

    def start(self, openmetrics: str, alertmanager_port: int, timeout: float = 60.0) -> AlertingPrometheus:
        bins = require("prometheus", "promtool")
        (self.workdir / "data.om").write_text(openmetrics)
        tsdb = self.workdir / "tsdb"
        subprocess.run([bins["promtool"], "tsdb", "create-blocks-from", "openmetrics", str(self.workdir / "data.om"),
                        str(tsdb)], check=True, capture_output=True, timeout=120)
        (self.workdir / "rules.yml").write_text(RULES)
        (self.workdir / "prometheus.yml").write_text(
            "global: {scrape_interval: 15s, evaluation_interval: 1s}\n"
            f"rule_files: [{self.workdir / 'rules.yml'}]\n"
            "alerting:\n  alertmanagers:\n"
            f"    - static_configs: [{{targets: ['127.0.0.1:{alertmanager_port}']}}]\n"
            "scrape_configs: []\n")
        self._spawn([bins["prometheus"], f"--config.file={self.workdir / 'prometheus.yml'}",
                     f"--storage.tsdb.path={tsdb}", "--storage.tsdb.retention.time=3650d",
                     f"--web.listen-address=127.0.0.1:{self.port}", "--rules.alert.resend-delay=1s"],
                    f"{self.url}/-/ready", timeout)
        return self


class Alertmanager(Process):
    name = "alertmanager"

    def start(self, webhook_url: str, token: str, timeout: float = 60.0) -> Alertmanager:
        bins = require("prometheus-alertmanager")
        (self.workdir / "alertmanager.yml").write_text(json.dumps({
            "route": {"receiver": "day2ai", "group_by": ["alertname", "service"], "group_wait": "0s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "day2ai", "webhook_configs": [{
                "url": webhook_url, "send_resolved": False,
                "http_config": {"authorization": {"type": "Bearer", "credentials": token}}}]}],
        }))
        self._spawn([bins["prometheus-alertmanager"], f"--config.file={self.workdir / 'alertmanager.yml'}",
                     f"--storage.path={self.workdir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
                     "--cluster.listen-address="], f"{self.url}/-/ready", timeout)
        return self


class Day2aiServe(Process):
    name = "day2ai-serve"

    def start(self, args: list[str], token: str, timeout: float = 60.0) -> Day2aiServe:
        env = {**os.environ, "DAY2AI_API_TOKEN": token}
        root = Path(__file__).resolve().parents[2]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self._spawn([sys.executable, "-c", "from day2ai.cli import run; run()", "serve", "--host", "127.0.0.1",
                     "--port", str(self.port), *args], f"{self.url}/healthz", timeout, env=env)
        return self


class Receiver:
    """Records the JSON bodies POSTed to it (a stand-in for a Slack incoming webhook)."""

    def __init__(self) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.put({"path": self.path, "body": json.loads(self.rfile.read(length) or b"null")})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
