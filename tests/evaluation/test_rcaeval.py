"""The RCAEval converter, on small hand-made cases in RCAEval's layout (RE1, RE2, RE3)."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from day2ai.errors import InputError
from day2ai.evaluation.baselines import LoudestSymptomInvestigator
from day2ai.evaluation.harness import evaluate
from day2ai.evaluation.rcaeval import convert_tree, epoch_seconds, find_cases, metric_name, parse_case_name
from day2ai.sources.bundle import load_bundle, validate_bundle

INJECT = 1_705_354_566
SERVICES = ("frontend", "cartservice", "checkoutservice", "emailservice")


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def make_case(root: Path, rel: str, culprit: str, *, metrics_file: str = "simple_metrics.csv",
              logs: bool = False, traces: bool = False, seconds: int = 120) -> Path:
    """A case whose culprit's latency and cpu jump at injection; others stay flat (with one NaN)."""
    d = root / rel
    d.mkdir(parents=True)
    (d / "inject_time.txt").write_text(f"{INJECT}\n")
    header = ["time"] + [f"{s}_{m}" for s in SERVICES for m in ("cpu", "mem", "latency-90", "workload")]
    rows = []
    for i in range(seconds):
        t = INJECT - seconds // 2 + i
        row: list[object] = [t]
        for s in SERVICES:
            hot = s == culprit and t >= INJECT
            row += [0.9 if hot else 0.2, 1.5e8, 2.0 if hot else 0.05, 10]
        rows.append(row)
    rows[3][1] = ""  # a missing value (frontend_cpu)
    _write_csv(d / metrics_file, header, rows[::-1])  # out of order on purpose
    if logs:
        header_l = ["time", "timestamp", "container_name", "message", "level", "req_path", "error"]
        _write_csv(d / "logs.csv", header_l, [
            ["10:07", (INJECT + 1) * 10**9, culprit, "failed to charge card | code=13", "error", "/pay", "x"],
            ["10:07", (INJECT - 5) * 10**9, "frontend", "GET / 200", "info", "", ""],
            ["10:07", "", "frontend", "no timestamp", "info", "", ""]])
    if traces:
        header_t = ["time", "traceID", "spanID", "serviceName", "methodName", "operationName",
                    "startTimeMillis", "startTime", "duration", "statusCode", "parentSpanID"]
        _write_csv(d / "traces.csv", header_t, [
            ["10:07", "t1", "s1", "frontendservice", "GET", "/cart", (INJECT + 2) * 1000,
             (INJECT + 2) * 10**6, 250_000, "", ""],
            ["10:07", "t1", "s2", culprit, "Charge", "hipstershop.Charge", (INJECT + 2) * 1000,
             (INJECT + 2) * 10**6 + 10, 240_000, 2, "s1"],
            ["10:07", "t2", "s3", culprit, "Charge", "hipstershop.Charge", INJECT * 1000, INJECT * 10**6,
             1000, 0.0, ""],
            ["10:07", "", "s4", culprit, "Charge", "broken", INJECT * 1000, INJECT * 10**6, 5, 0, ""],
        ])
    return d


def read_manifest(out: Path) -> list[dict[str, str]]:
    with open(out / "rcaeval-cases.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def rcaeval_root(tmp_path: Path) -> Path:
    root = tmp_path / "RE2"
    make_case(root, "RE2-OB/checkoutservice_cpu/1", "checkoutservice", logs=True, traces=True)
    make_case(root, "RE2-OB/checkoutservice_cpu/multi-source-data", "checkoutservice")  # a copy, not a case
    make_case(root, "RE2-OB/cartservice_delay/2", "cartservice")
    make_case(root, "RE1-OB/emailservice_mem/1", "emailservice", metrics_file="data.csv")
    make_case(root, "RE3-OB/emailservice_f3/1", "emailservice", logs=True)
    return root


def test_names_units_and_discovery(rcaeval_root: Path) -> None:
    assert parse_case_name("ts-auth-service_socket") == ("ts-auth-service", "socket")
    assert parse_case_name("multi-source-data") is None
    assert metric_name("latency-90") == "request_latency_p90_seconds"
    assert metric_name("container-cpu-usage-seconds-total") == "container_cpu_usage_seconds_total"
    assert epoch_seconds(INJECT * 1e9) == pytest.approx(INJECT)
    assert epoch_seconds(INJECT * 1e6) == pytest.approx(INJECT)
    assert epoch_seconds(INJECT * 1e3) == pytest.approx(INJECT)
    cases, skipped = find_cases(rcaeval_root)
    assert [c.rel for c in cases] == ["RE1-OB/emailservice_mem/1", "RE2-OB/cartservice_delay/2",
                                      "RE2-OB/checkoutservice_cpu/1", "RE3-OB/emailservice_f3/1"]
    assert [c.fault.value for c in cases] == ["memory_leak", "network_delay", "cpu_saturation", "code_error"]
    assert len(skipped) == 1 and "multi-source-data" in skipped[0]


def test_converted_bundles_are_valid_and_do_not_leak_truth(rcaeval_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    conv = convert_tree(rcaeval_root, out)
    assert len(conv.bundles) == 4
    manifest = read_manifest(out)
    assert {m["case"] for m in manifest} == {"RE1-OB/emailservice_mem/1", "RE2-OB/cartservice_delay/2",
                                             "RE2-OB/checkoutservice_cpu/1", "RE3-OB/emailservice_f3/1"}
    for m in manifest:
        bundle = out / m["bundle"]
        assert validate_bundle(bundle) == []
        seen = (bundle / "incident.yaml").read_text() + bundle.name
        assert m["service"] not in seen and m["rcaeval_fault"] not in seen.split("RCAEval")[0]
        truth = yaml.safe_load((bundle / "truth.yaml").read_text())
        assert truth["root_cause"] == {"service": m["service"], "fault": m["fault"],
                                       "detail": truth["root_cause"]["detail"]}
        assert m["case"] in truth["root_cause"]["detail"]
    again = convert_tree(rcaeval_root, tmp_path / "suite2")
    assert [p.name for p in again.bundles] == [p.name for p in conv.bundles]  # stable ids


def test_metrics_logs_and_traces_content(rcaeval_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    convert_tree(rcaeval_root, out, prefix="ob")
    row = next(r for r in read_manifest(out) if r["case"].endswith("cpu/1"))
    b = load_bundle(out / row["bundle"])
    assert b.incident.id.startswith("ob-")
    assert b.incident.detected_at.timestamp() == INJECT
    assert b.incident.baseline is not None and b.incident.baseline.end_s == INJECT
    series = list(b.iter_file("metrics"))
    assert len(series) == len(SERVICES) * 4
    cpu = next(s for s in series if s.service == "checkoutservice" and s.name == "cpu_usage_ratio")
    assert cpu.labels["rcaeval_metric"] == "cpu" and len(cpu.timestamps) == 120
    assert cpu.timestamps == sorted(cpu.timestamps)
    assert cpu.values[0] == 0.2 and cpu.values[-1] == 0.9
    frontend_cpu = next(s for s in series if s.service == "frontend" and s.name == "cpu_usage_ratio")
    assert sum(math.isnan(v) for v in frontend_cpu.values) == 1
    logs = list(b.iter_file("logs"))
    assert len(logs) == 2  # the row without a timestamp is dropped
    err = next(r for r in logs if r.service == "checkoutservice")
    assert err.timestamp == pytest.approx(INJECT + 1) and err.level == "ERROR"
    assert err.message == "failed to charge card | code=13" and err.attributes["req_path"] == "/pay"
    spans = {s.span_id: s for s in b.iter_file("traces")}
    assert set(spans) == {"s1", "s2", "s3"}  # the row without a trace id is dropped
    assert spans["s2"].parent_span_id == "s1" and spans["s1"].parent_span_id is None
    assert spans["s2"].duration_ms == pytest.approx(240.0) and spans["s2"].start == pytest.approx(INJECT + 2)
    assert (spans["s1"].status, spans["s2"].status, spans["s3"].status) == (None, "error", "ok")
    assert "logs 2" in (out / row["bundle"] / "truth.yaml").read_text()


def test_gzip_and_detection_delay(rcaeval_root: Path, tmp_path: Path) -> None:
    conv = convert_tree(rcaeval_root / "RE3-OB", tmp_path / "gz", compress=True, detection_delay=30)
    (bundle,) = conv.bundles
    assert (bundle / "metrics.jsonl.gz").is_file() and (bundle / "logs.jsonl.gz").is_file()
    assert bundle.name.startswith("re3-ob-")
    b = load_bundle(bundle)
    assert b.incident.detected_at.timestamp() == INJECT + 30
    assert "RE3-OB" in b.incident.title


def test_loudest_baseline_scores_converted_cases(rcaeval_root: Path, tmp_path: Path) -> None:
    convert_tree(rcaeval_root, tmp_path / "suite")
    result = evaluate(tmp_path / "suite", LoudestSymptomInvestigator())
    assert result.cases == 4 and result.errors == 0
    assert result.ac_at_1 == 1.0


def test_bad_input_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no RCAEval cases"):
        convert_tree(tmp_path, tmp_path / "out")
    d = make_case(tmp_path / "root", "svc_cpu/1", "svc")
    (d / "inject_time.txt").write_text("yesterday")
    with pytest.raises(InputError, match=r"inject_time\.txt:1"):
        convert_tree(tmp_path / "root", tmp_path / "out")
    (d / "inject_time.txt").write_text(str(INJECT))
    (d / "simple_metrics.csv").write_text("when,svc_cpu\n1,2\n")
    with pytest.raises(InputError, match=r"simple_metrics\.csv:1: no time column"):
        convert_tree(tmp_path / "root", tmp_path / "out")
    (d / "simple_metrics.csv").write_text("time,svc_cpu\n1,2\nnoon,3\n")
    with pytest.raises(InputError, match=r"simple_metrics\.csv:3: time"):
        convert_tree(tmp_path / "root", tmp_path / "out")


def test_convert_script(rcaeval_root: Path, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "tools" / "convert_rcaeval.py"
    ok = subprocess.run([sys.executable, str(script), str(rcaeval_root / "RE2-OB"), str(tmp_path / "s")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "2 bundles written" in ok.stdout and "skipped checkoutservice_cpu/multi-source-data" in ok.stderr
    bad = subprocess.run([sys.executable, str(script), str(tmp_path / "s"), str(tmp_path / "t")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no RCAEval cases" in bad.stderr and "Traceback" not in bad.stderr
