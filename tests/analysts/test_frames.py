"""DataFrames of bundles, reports and evaluation results (day2ai.frames)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from day2ai import load_bundle
from day2ai.evaluation.results import CaseResult, SuiteResult
from day2ai.models import Evidence, Hypothesis, Incident, Report
from tests.bundle_factory import T0, series, write_bundle

pd = pytest.importorskip("pandas")


def _bundle(tmp_path: Path) -> Path:
    return write_bundle(
        tmp_path / "b",
        metrics=[
            series("cpu_usage_ratio", "checkout", [0.1, 0.2, float("nan"), 0.4], pod="checkout-1"),
            series("cpu_usage_ratio", "checkout", [0.5, 0.6, 0.7, 0.8], pod="checkout-2", zone="a"),
            series("request_rate", "frontend", [10, 11, 12]),
        ],
        logs=[
            {"timestamp": T0 + 1, "service": "checkout", "level": "error", "message": "payment call failed: id 17"},
            {"timestamp": T0 + 2, "service": "frontend", "message": "GET /cart 200 in 12ms"},
            {"timestamp": T0 + 3, "service": "checkout", "level": "ERROR", "message": "payment call failed: id 99"},
            {"timestamp": T0 + 4, "service": "frontend", "message": "GET /cart 200 in 15ms"},
        ],
        traces=[
            {"trace_id": "t1", "span_id": "a", "service": "frontend", "name": "GET /", "start": T0 + 5,
             "duration_ms": 30.0},
            {"trace_id": "t1", "span_id": "b", "parent_span_id": "a", "service": "checkout", "name": "pay",
             "start": T0 + 5.1, "duration_ms": 20.0, "status": "error"},
        ],
        changes=[{"timestamp": T0 + 60, "service": "checkout", "kind": "deploy", "summary": "v2", "version": "2"}],
    )


def test_metrics_frame_is_long_with_labels_and_utc_index(tmp_path: Path) -> None:
    b = load_bundle(_bundle(tmp_path))
    m = b.metrics_frame()
    assert len(m) == 4 + 4 + 3
    assert str(m.index.tz) == "UTC" and m.index.name == "timestamp"
    assert m.index[0].timestamp() == T0 and m.index.is_monotonic_increasing
    assert set(m.columns) >= {"metric", "service", "series", "value", "pod", "zone"}
    assert m["series"].nunique() == 3
    pod2 = m[m["pod"] == "checkout-2"]
    assert list(pod2["value"]) == [0.5, 0.6, 0.7, 0.8] and set(pod2["zone"]) == {"a"}
    assert m[m["pod"] == "checkout-1"]["zone"].isna().all()
    assert math.isnan(m[m["pod"] == "checkout-1"]["value"].iloc[2])  # NaN points are kept


def test_metrics_frame_filters(tmp_path: Path) -> None:
    b = load_bundle(_bundle(tmp_path))
    assert set(b.metrics_frame(services=["frontend"])["metric"]) == {"request_rate"}
    assert len(b.metrics_frame(names=["cpu_usage_ratio"], labels={"pod": "checkout-1"})) == 4
    assert len(b.metrics_frame(start=T0 + 15, end=T0 + 30)) == 2 * 2 + 2
    assert b.metrics_frame(labels={"pod": "nope"}).empty


def test_logs_frame_with_templates(tmp_path: Path) -> None:
    b = load_bundle(_bundle(tmp_path))
    logs = b.logs_frame(templates=True)
    assert len(logs) == 4 and str(logs.index.tz) == "UTC"
    checkout = logs[logs["service"] == "checkout"]
    assert checkout["template_id"].nunique() == 1  # both failures are one template
    assert checkout["template_id"].iloc[0] != logs[logs["service"] == "frontend"]["template_id"].iloc[0]
    assert list(checkout["level"]) == ["ERROR", "ERROR"]
    only = b.logs_frame(services=["checkout"], templates=True)
    assert list(only["template_id"]) == list(checkout["template_id"])  # ids do not depend on the filter
    assert "template_id" not in b.logs_frame().columns


def test_spans_and_changes_frames(tmp_path: Path) -> None:
    b = load_bundle(_bundle(tmp_path))
    spans = b.spans_frame()
    assert spans.index.name == "start" and len(spans) == 2
    assert list(spans["parent_service"].fillna("-")) == ["-", "frontend"]
    assert list(spans["status"].fillna("-")) == ["-", "error"]
    ch = b.changes_frame()
    assert list(ch["kind"]) == ["deploy"] and ch.index[0].timestamp() == T0 + 60
    assert b.changes_frame(services=["frontend"]).empty


def _report() -> Report:
    inc = Incident(id="i", title="t", detected_at=T0, window={"start": T0, "end": T0 + 600})
    ev = [Evidence(id="e1", source="metrics", query="q", summary="cpu up", service="a", strength=0.9,
                   time_range={"start": T0, "end": T0 + 60}),
          Evidence(id="e2", source="logs", query="q", summary="errors", service="b")]
    hyps = [Hypothesis(service="a", fault="cpu_saturation", confidence=0.8, summary="s", supporting=["e1", "e2"]),
            Hypothesis(service="b", fault="code_error", confidence=0.3, summary="s", supporting=["e2", "e9"])]
    return Report(incident=inc, investigator="x", hypotheses=hyps, evidence=ev)


def test_report_frames() -> None:
    r = _report()
    ef = r.evidence_frame()
    assert list(ef.index) == ["e1", "e2"]
    assert ef.loc["e1", "cited_by"] == [1] and ef.loc["e2", "cited_by"] == [1, 2]
    assert ef.loc["e1", "start"].timestamp() == T0 and str(ef.loc["e1", "start"].tz) == "UTC"
    assert pd.isna(ef.loc["e2", "start"])
    hf = r.hypotheses_frame()
    assert list(hf.index) == [1, 2] and list(hf["fault"]) == ["cpu_saturation", "code_error"]
    assert list(hf["grounded"]) == [True, False]  # e9 is not in the report


def test_eval_frames() -> None:
    cases = [CaseResult(id="c1", truth_service="a", truth_fault="x", ranked_services=["a"], rank=1),
             CaseResult(id="c2", truth_service="b", truth_fault="y", ranked_services=["a", "c", "b"], rank=3),
             CaseResult(id="c3", error="boom")]
    res = SuiteResult(cases=3, errors=1, **{"ac@1": 1 / 3, "ac@3": 2 / 3, "ac@5": 2 / 3, "avg@5": 0.5},
                      fault_accuracy=0.2, confusion={"x": {"x": 1}, "y": {"x": 1}}, per_case=cases)
    cf = res.cases_frame()
    assert list(cf.index) == ["c1", "c2", "c3"]
    assert list(cf["hit@1"]) == [True, False, False] and list(cf["hit@3"]) == [True, True, False]
    assert cf.loc["c3", "error"] == "boom" and cf.loc["c2", "top"] == "a"
    sf = res.scores_frame()
    assert sf.loc["ac@3", "value"] == pytest.approx(2 / 3) and sf.loc["cases", "value"] == 3
    conf = res.confusion_frame()
    assert conf.loc["y", "x"] == 1 and list(conf.columns) == ["x"]
    assert SuiteResult(cases=0, **{"ac@1": 0, "ac@3": 0, "ac@5": 0, "avg@5": 0}, fault_accuracy=0).cases_frame().empty
