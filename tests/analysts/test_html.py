"""Rich HTML views for Jupyter: every model an analyst looks at, escaped."""

from __future__ import annotations

from day2ai.evaluation.results import CaseResult, SuiteResult
from day2ai.models import Evidence, Hypothesis, Incident, Report, Selector

EVIL = "<script>alert(1)</script>"


def _report() -> Report:
    inc = Incident(id="i-1", title=f"Checkout down {EVIL}", detected_at=100, window={"start": 0, "end": 600},
                   symptom={"service": "frontend", "alert": {"name": "HighErrors", "labels": {"sev": "page"}}})
    ev = [Evidence(id="e1", source="logs", query="log template T3 of b", summary=f"NEW error {EVIL}",
                   service="b", strength=0.7, selector=Selector(source="logs", template_id="T3",
                                                                template="payment failed <*>", onset=120)),
          Evidence(id="e2", source="metrics", query="q", summary="cpu flat", service="b")]
    hyps = [Hypothesis(service="b", fault="code_error", confidence=0.7, summary="b throws",
                       supporting=["e1"], contradicting=["e2"])]
    return Report(incident=inc, investigator="offline", hypotheses=hyps, evidence=ev)


def test_incident_html_shows_the_page_escaped() -> None:
    html = _report().incident._repr_html_()
    assert "Checkout down" in html and "HighErrors" in html and "frontend" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_evidence_html_shows_the_selector() -> None:
    html = _report().evidence[0]._repr_html_()
    assert "log template T3" in html and "payment failed &lt;*&gt;" in html and "<script>" not in html


def test_hypothesis_alone_shows_its_evidence_inline() -> None:
    report = _report()
    html = report.hypotheses[0]._repr_html_()
    assert "NEW error" in html and "cpu flat" in html  # supporting and contradicting, not just ids
    orphan = Hypothesis(service="b", fault="code_error", confidence=0.5, summary="s", supporting=["e7"])
    assert "e7" in orphan._repr_html_() and "NEW error" not in orphan._repr_html_()


def test_report_html_escapes_data() -> None:
    html = _report()._repr_html_()
    assert "b throws" in html and "<script>" not in html


def test_suite_html_has_the_confusion_matrix() -> None:
    res = SuiteResult(cases=2, **{"ac@1": 0.5, "ac@3": 1.0, "ac@5": 1.0, "avg@5": 0.9}, fault_accuracy=0.5,
                      confusion={"cpu_saturation": {"cpu_saturation": 1}, "code_error": {"memory_leak": 1}},
                      per_case=[CaseResult(id="c1", rank=1), CaseResult(id=EVIL, rank=2, ranked_services=["x"])])
    html = res._repr_html_()
    assert "truth \\ predicted" in html and "memory_leak" in html and "Misses (1)" in html
    assert "<script>" not in html
    assert html.count("<tr>") >= 2 + 1 + 7  # matrix rows, its header, the score rows


def test_scan_report_renders_in_an_isolated_frame(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import html
    import importlib.util

    import pytest

    if importlib.util.find_spec("day2ai.scan.sim") is None:
        pytest.skip("no ops-history simulator")
    from day2ai.scan.engine import scan_path
    from day2ai.scan.models import Finding, FindingEvidence
    from day2ai.scan.sim import simulate_history

    simulate_history(tmp_path / "h", 7, services=12, days=14, step=3600)
    report = scan_path(tmp_path / "h")
    report.findings.append(Finding(kind="stale_runbook", service=EVIL, severity="low", summary="s",
                                   evidence=[FindingEvidence(source="knowledge", summary="x")],
                                   recommendation="r", runbook="runbooks/x.md"))
    out = report._repr_html_()
    assert out.startswith("<iframe srcdoc=") and out.count("<iframe") == 1 and "sandbox" in out
    assert "<script>" not in out and "<style" not in out  # the page's CSS stays inside the frame
    inner = html.unescape(out.split('srcdoc="', 1)[1].split('" style=', 1)[0])
    assert inner == report.to_html()
