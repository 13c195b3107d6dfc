"""``day2ai record`` on the command line: a real Prometheus and OTLP files into a bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from day2ai.cli import main
from day2ai.sources.bundle import load_bundle, validate_bundle
from tests.sources.servers.prom import PrometheusServer, free_port
from tests.sources.servers.scenario import SERVICES, Scenario

pytestmark = pytest.mark.prometheus


def otlp_spans(scenario: Scenario) -> dict[str, object]:
    spans = []
    for i, t in enumerate(scenario.times(300)):
        spans.append(
            {
                "traceId": f"{i + 1:032x}",
                "spanId": f"{i + 1:016x}",
                "name": "GET /",
                "startTimeUnixNano": str(int(t * 1e9)),
                "endTimeUnixNano": str(int(t * 1e9) + 5_000_000),
            }
        )
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "frontend"}}]},
                "scopeSpans": [{"spans": spans}],
            }
        ]
    }


def write_site(tmp_path: Path, prom_url: str, scenario: Scenario) -> Path:
    (tmp_path / "otlp").mkdir()
    (tmp_path / "otlp" / "spans.json").write_text(json.dumps(otlp_spans(scenario)))
    site = tmp_path / "site.yaml"
    site.write_text(
        f"metrics: {{type: prometheus, url: '{prom_url}', auth: {{bearer_token_env: CLI_PROM_TOKEN}}}}\n"
        "traces: {type: otlp, paths: [otlp]}\n"
    )
    return site


def test_record_cli_writes_a_bundle_that_investigates(
    prometheus: PrometheusServer,
    scenario: Scenario,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLI_PROM_TOKEN", "cli-secret-token")
    site = write_site(tmp_path, prometheus.url, scenario)
    out = tmp_path / "bundle"
    code = main(
        [
            "record",
            "--config",
            str(site),
            "--service",
            "frontend",
            "--since",
            "1h",
            "--until",
            str(scenario.end),
            "--out",
            str(out),
            "--title",
            "checkout errors",
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert f"recorded {out}" in printed.out and "gap: logs: no backend configured" in printed.out
    assert validate_bundle(out) == []
    bundle = load_bundle(out)
    assert bundle.incident.title == "checkout errors" and bundle.incident.window.end_s == scenario.end
    assert {s.service for s in bundle.iter_file("metrics")} == set(SERVICES)
    assert {s.service for s in bundle.iter_file("traces")} == {"frontend"}
    assert "cli-secret-token" not in printed.out + printed.err + "".join(p.read_text() for p in out.iterdir())

    code = main(["investigate", str(out), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["incident_id"] == bundle.incident.id and report["hypotheses"]


def test_record_cli_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "site.yaml"
    bad.write_text("metrics: {type: prometheus}\n")
    code = main(["record", "--config", str(bad), "--service", "a", "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert code == 2 and "site.yaml:1: metrics.url: Field required" in err and "Traceback" not in err
    good = tmp_path / "good.yaml"
    good.write_text(f"metrics: {{type: prometheus, url: 'http://127.0.0.1:{free_port()}'}}\n")
    code = main(
        ["record", "--config", str(good), "--service", "a", "--since", "soon", "--out", str(tmp_path / "b")]
    )
    assert code == 2 and "not a duration" in capsys.readouterr().err


def test_record_cli_unreachable_backend_names_the_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(f"metrics: {{type: prometheus, url: 'http://127.0.0.1:{free_port()}', retries: 0}}\n")
    code = main(["record", "--config", str(site), "--service", "a", "--out", str(tmp_path / "b")])
    captured = capsys.readouterr()
    assert "gap: metrics (prometheus): prometheus: GET /api/v1/query_range: cannot connect" in captured.out
    # nothing was recorded: a non-zero exit, and validate refuses the empty bundle as such (#16)
    assert code == 1 and "recorded no telemetry" in captured.err
    problems = validate_bundle(tmp_path / "b")
    assert len(problems) == 1 and "holds no telemetry" in problems[0].problem
