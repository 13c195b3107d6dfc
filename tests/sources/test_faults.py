"""Fault injection end to end: every backend misbehaves, the investigation still finishes, names each
gap, and no configured credential reaches an exception, a log record or the report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from day2ai.agent.offline import OfflineInvestigator
from day2ai.errors import Day2AIError
from day2ai.models import Report
from day2ai.render import report_markdown
from day2ai.sources.base import ChangeQuery, LogQuery, MetricQuery, SpanQuery
from day2ai.sources.config import close_sources, live_incident, load_site_config
from tests.sources.servers.flaky import Behaviour, FlakyServer, serve_in_thread

SECRETS = {
    "PROM_TOKEN": "prom-flaky-secret-1",
    "LOKI_PASSWORD": "loki-flaky-secret-2",
    "JAEGER_TOKEN": "jaeger-flaky-secret-3",
    "K8S_TOKEN": "k8s-flaky-secret-4",
    "GH_TOKEN": "gh-flaky-secret-5",
}

ROUTES = {
    "/api/v1/query": Behaviour("error500"),  # Prometheus: 500 on every try
    "/loki/": Behaviour(
        "truncated",
        body={
            "status": "success",
            "data": {"resultType": "streams", "result": [{"stream": {}, "values": []}]},
        },
    ),
    "/api/services": Behaviour("hang", hang_seconds=2),  # Jaeger: never answers in time
    "/api/traces": Behaviour("hang", hang_seconds=2),
    "/apis/": Behaviour("endless_k8s"),  # Kubernetes: a continue token that never ends
    "/api/v1/namespaces": Behaviour("endless_k8s"),
    "/repos/": Behaviour("huge"),  # GitHub: a 50 MB answer
    "/api/v1/applications": Behaviour("throttle", body={}, count=99, retry_after="0"),  # Argo CD: 429 forever
}


def site_yaml(url: str) -> str:
    return f"""\
defaults:
  {{retries: 1, backoff: 0.01, read_timeout: 0.3, deadline: 5, max_pages: 5, max_response_bytes: 500000}}
metrics: {{type: prometheus, url: "{url}", auth: {{bearer_token_env: PROM_TOKEN}}}}
logs:
  type: loki
  url: "{url}"
  auth: {{username: day2ai, password: "${{LOKI_PASSWORD}}"}}
traces: {{type: jaeger, url: "{url}", auth: {{bearer_token_env: JAEGER_TOKEN}}}}
changes:
  - {{type: kubernetes, url: "{url}", namespaces: [shop], auth: {{bearer_token_env: K8S_TOKEN}}}}
  - {{type: github, url: "{url}", repos: {{acme/payments: payments}}, auth: {{bearer_token_env: GH_TOKEN}}}}
  - {{type: argocd, url: "{url}", applications: [payments], auth: {{bearer_token_env: GH_TOKEN}}}}
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS.values():
            assert secret not in text


async def test_every_backend_fails_and_the_investigation_names_each_gap(
    tmp_path: Path, env: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FlakyServer(dict(ROUTES)) as srv:
        (tmp_path / "site.yaml").write_text(site_yaml(srv.url))
        site = load_site_config(tmp_path / "site.yaml")
        sources = site.build_sources()
        report: Report = await OfflineInvestigator().investigate(live_incident("payments", "30m"), sources)
        await close_sources(sources)
        sent = srv.sent_bytes.get("/repos/acme/payments/deployments", 0)
        auth_headers = [h.headers.get("authorization", "") for h in srv.seen]

    reasons: dict[str, str] = {}
    for g in report.gaps:
        reasons[g.source] = reasons.get(g.source, "") + g.reason + "; "
    text = " | ".join(f"{g.source}: {g.reason}" for g in report.gaps)
    assert "HTTP 500" in reasons["metrics"] and "prometheus" in reasons["metrics"]
    assert "malformed JSON" in reasons["logs"] and "loki" in reasons["logs"]
    assert "timed out" in reasons["traces"] and "jaeger" in reasons["traces"]
    assert "changes" in reasons, text
    for problem in ("pagination limit", "exceeds the cap", "HTTP 429"):
        assert problem in reasons["changes"], text
    assert sent < 50 * 1024 * 1024
    assert any(h.startswith("Bearer ") for h in auth_headers) and any(
        h.startswith("Basic ") for h in auth_headers
    )

    out = capsys.readouterr()
    assert_clean(
        report.model_dump_json(),
        str(report.to_contract()),
        report_markdown(report),
        caplog.text,
        out.out,
        out.err,
    )


async def test_each_source_raises_only_day2ai_errors_without_secrets(tmp_path: Path, env: None) -> None:
    async with FlakyServer(dict(ROUTES)) as srv:
        (tmp_path / "site.yaml").write_text(site_yaml(srv.url))
        sources = load_site_config(tmp_path / "site.yaml").build_sources()
        calls = [
            lambda: sources.metrics.series(MetricQuery(start=0, end=600)),  # type: ignore[union-attr]
            lambda: sources.logs.logs(LogQuery(start=0, end=600)),  # type: ignore[union-attr]
            lambda: sources.traces.spans(SpanQuery(start=0, end=600)),  # type: ignore[union-attr]
            lambda: sources.changes.changes(ChangeQuery(start=0, end=600)),  # type: ignore[union-attr]
        ]
        for call in calls:
            with pytest.raises(Day2AIError) as info:
                [x async for x in call()]
            assert_clean(str(info.value), repr(info.value))
        await close_sources(sources)


async def test_echoed_credentials_are_scrubbed_from_gaps(tmp_path: Path, env: None) -> None:
    async with FlakyServer({"/": Behaviour("echo_auth")}) as srv:
        (tmp_path / "site.yaml").write_text(site_yaml(srv.url))
        sources = load_site_config(tmp_path / "site.yaml").build_sources()
        report = await OfflineInvestigator().investigate(live_incident("payments", "30m"), sources)
        await close_sources(sources)
    assert {"metrics", "logs", "traces", "changes"} <= {g.source for g in report.gaps}
    assert "<redacted>" in report.model_dump_json()
    assert_clean(report.model_dump_json())


def test_cli_investigate_and_record_with_failing_backends(
    tmp_path: Path, env: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from day2ai.cli import main

    caplog.set_level(logging.DEBUG)
    with serve_in_thread(dict(ROUTES)) as srv:
        (tmp_path / "site.yaml").write_text(site_yaml(srv.url))
        args = ["--config", str(tmp_path / "site.yaml"), "--service", "payments", "--since", "30m"]
        code = main(["investigate", *args, "--format", "json"])
        investigated = capsys.readouterr()
        recorded_code = main(["record", *args, "--out", str(tmp_path / "bundle")])
        recorded = capsys.readouterr()
    assert code == 0, investigated.err
    report = json.loads(investigated.out)
    assert {"metrics", "logs", "traces", "changes"} <= {g["source"] for g in report["gaps"]}
    # every backend failed: nothing recorded, so record exits 1 (#16) after naming each gap
    assert recorded_code == 1 and recorded.out.count("gap: ") == 4
    files = "".join(p.read_text() for p in (tmp_path / "bundle").iterdir())
    assert_clean(investigated.out, investigated.err, recorded.out, recorded.err, caplog.text, files)
