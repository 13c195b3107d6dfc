"""The knowledge base against a real Chroma server (``chroma run``) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from day2ai.knowledge import KnowledgeBase
from day2ai.knowledge.embeddings import HashingEmbedder
from tests.sources.servers.prom import stop_process

pytestmark = [pytest.mark.chroma_server, pytest.mark.slow]


def _chroma_binary() -> str | None:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _chroma_binary()
    if binary is None:
        pytest.skip("the 'chroma' CLI (installed with chromadb) is not on this machine")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-data")
    log = (tmp_path_factory.mktemp("chroma-log") / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [binary, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"http://{address}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma server did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield address
    finally:
        stop_process(proc, timeout=10)
        log.close()


def test_ingest_and_search_through_a_server(chroma_server: str, corpus: Path) -> None:
    kb = KnowledgeBase(server=chroma_server, collection="test_server_kb", embedder=HashingEmbedder(256))
    stats = kb.ingest(corpus)
    assert stats.added == 5 and stats.chunks_embedded > 5
    assert kb.stats().backend == f"http://{chroma_server}"

    other_client = KnowledgeBase(server=chroma_server, collection="test_server_kb")
    assert other_client.embedder.name == "hashing-v1-256"
    hits = other_client.search("x509 certificate has expired", k=2)
    assert hits[0].ref == "runbooks/tls.md#renew"
    assert other_client.ingest(corpus).unchanged == 5
    assert other_client.runbook_for("payments", "connection_pool_exhaustion") is not None


def test_cli_with_server(chroma_server: str, corpus: Path) -> None:
    from typer.testing import CliRunner

    from tests.knowledge.test_cli_kb import _app

    runner = CliRunner()
    args = ["kb", "ingest", str(corpus), "--server", chroma_server, "--embedding", "hashing"]
    assert runner.invoke(_app(), args).exit_code == 0
    res = runner.invoke(_app(), ["kb", "search", "WAL archiving", "--server", chroma_server, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "postmortems/2025-02-01-disk.md" in res.stdout


def test_unreachable_server_is_a_clear_error() -> None:
    from day2ai.errors import KnowledgeError

    kb = KnowledgeBase(server=f"127.0.0.1:{_free_port()}", embedder=HashingEmbedder(64))
    with pytest.raises(KnowledgeError, match="chroma"):
        kb.search("anything")
