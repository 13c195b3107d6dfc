from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from day2ai.models import (
    Evidence,
    EvidenceSource,
    Fault,
    Hypothesis,
    Incident,
    Remediation,
    Report,
    TimeRange,
    json_schemas,
)
from day2ai.timeutil import parse_timestamp


def _incident() -> Incident:
    return Incident(id="i1", title="t", detected_at="2026-03-14T10:32:00Z",
                    window={"start": "2026-03-14T10:00:00Z", "end": "2026-03-14T10:45:00Z"})


def test_fault_taxonomy_matches_spec() -> None:
    assert {f.value for f in Fault} == {
        "cpu_saturation", "memory_leak", "disk_full", "network_delay", "packet_loss", "service_crash",
        "code_error", "bad_deploy", "config_error", "dependency_failure", "connection_pool_exhaustion",
        "certificate_expiry", "traffic_surge", "other"}


@pytest.mark.parametrize(("text", "epoch"), [
    ("2026-03-14T10:32:05Z", 1773484325.0),
    ("2026-03-14T11:32:05+01:00", 1773484325.0),
    ("2026-03-14T10:32:05.5", 1773484325.5),
    ("2026-03-14T10:32:05.123456789Z", 1773484325.123456789),
    (1773484325, 1773484325.0),
    ("1773484325.25", 1773484325.25),
])
def test_timestamps(text: object, epoch: float) -> None:
    assert parse_timestamp(text) == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-40T00:00:00Z", True, None, float("nan")])
def test_bad_timestamps(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(bad)


def test_window_order_enforced() -> None:
    with pytest.raises(ValidationError):
        TimeRange(start="2026-03-14T10:00:00Z", end="2026-03-14T09:00:00Z")


def test_confidence_bounds() -> None:
    with pytest.raises(ValidationError):
        Hypothesis(service="a", fault=Fault.CODE_ERROR, confidence=1.5, summary="x")


def test_contract_json_has_every_key() -> None:
    ev = Evidence(id="e1", source=EvidenceSource.LOGS, query="q", summary="pool timeouts", service="payments")
    hyp = Hypothesis(service="payments", fault=Fault.CONNECTION_POOL_EXHAUSTION, confidence=0.8, summary="s",
                     supporting=["e1", "e9"], remediations=[Remediation(action="raise pool size",
                                                                        runbook="runbooks/p.md#pool")])
    report = Report(incident=_incident(), investigator="offline", hypotheses=[hyp], evidence=[ev])
    out = json.loads(json.dumps(report.to_contract()))
    assert out["incident_id"] == "i1"
    h = out["hypotheses"][0]
    assert {"service", "fault", "confidence", "summary", "evidence", "remediation"} <= set(h)
    assert h["evidence"] == [{"id": "e1", "source": "logs", "summary": "pool timeouts"}]
    assert h["remediation"][0]["action"] == "raise pool size"
    assert h["remediation"][0]["runbook"] == "runbooks/p.md#pool"
    assert {"tool_calls", "llm_tokens", "seconds"} <= set(out["usage"])
    assert report.ranked_services() == ["payments"]
    assert "payments" in report._repr_html_()


def test_json_schemas_exportable() -> None:
    schemas = json_schemas()
    assert schemas["Hypothesis"]["properties"]["fault"]
    json.dumps(schemas)
