"""Start real metrics servers on loopback: Prometheus (TSDB backfilled with promtool) and
VictoriaMetrics (data pushed through its import API). Both come from Debian packages
(``tools/install_prometheus.sh``); ``require_binaries`` fails in CI and skips locally without them.

``PrometheusServer`` backfills OpenMetrics text into a temporary TSDB, starts ``prometheus`` on a
free 127.0.0.1 port and waits for ``/-/ready``; ``VictoriaMetricsServer`` starts
``victoria-metrics``, waits for ``/health`` and imports the same text. ``stop()`` ends them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

INSTALL_HINT = "run tools/install_prometheus.sh (Debian packages 'prometheus' and 'victoria-metrics')"


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidate = Path("/usr/bin") / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def require_binaries(*names: str, hints: dict[str, str] | None = None) -> dict[str, str]:
    """Paths of the binaries; fail in CI (``CI=true``), skip locally, when one is missing.

    ``hints`` says per binary how to install it (default: the Prometheus install script)."""
    paths = {n: find_binary(n) for n in names}
    missing = [n for n, p in paths.items() if p is None]
    if missing:
        msg = "; ".join(f"{n} not found: {(hints or {}).get(n, INSTALL_HINT)}" for n in missing)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return {n: p for n, p in paths.items() if p is not None}


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """End a server process: terminate, then kill if it has not exited within ``timeout`` s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float, tail: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


class PrometheusServer:
    def __init__(self, workdir: Path, openmetrics: str, *, retention: str = "3650d"):
        self.workdir = workdir
        self.openmetrics = openmetrics
        self.retention = retention
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 45.0) -> PrometheusServer:
        bins = require_binaries("prometheus", "promtool")
        data = self.workdir / "data.om"
        data.write_text(self.openmetrics)
        tsdb = self.workdir / "tsdb"
        subprocess.run(
            [bins["promtool"], "tsdb", "create-blocks-from", "openmetrics", str(data), str(tsdb)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
        self.log = open(self.workdir / "prometheus.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                bins["prometheus"],
                f"--config.file={config}",
                f"--storage.tsdb.path={tsdb}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        if _wait_ready(self.proc, f"{self.url}/-/ready", timeout, self.tail()):
            return self
        self.stop()
        raise RuntimeError(f"prometheus not ready after {timeout} s: {self.tail()}")

    def tail(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        self.proc = None
        if getattr(self, "log", None) is not None:
            self.log.close()


class VictoriaMetricsServer(PrometheusServer):
    """VictoriaMetrics speaking the Prometheus query API, loaded through ``/api/v1/import/prometheus``."""

    def start(self, timeout: float = 45.0) -> VictoriaMetricsServer:
        bins = require_binaries("victoria-metrics")
        self.log = open(self.workdir / "prometheus.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                bins["victoria-metrics"],
                f"-storageDataPath={self.workdir / 'vmdata'}",
                "-retentionPeriod=100y",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                "-search.latencyOffset=0s",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        if not _wait_ready(self.proc, f"{self.url}/health", timeout, self.tail()):
            self.stop()
            raise RuntimeError(f"victoria-metrics not ready after {timeout} s: {self.tail()}")
        lines = []
        for line in self.openmetrics.splitlines():
            if line and not line.startswith("#"):
                series, value, ts = line.rsplit(" ", 2)
                lines.append(f"{series} {value} {int(float(ts) * 1000)}")
        request = urllib.request.Request(
            f"{self.url}/api/v1/import/prometheus", data="\n".join(lines).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60):
            pass
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=30):
            pass
        return self
