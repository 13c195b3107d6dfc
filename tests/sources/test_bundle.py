"""The bundle reader: what the spec allows loads; each kind of breakage is one clear error."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from day2ai.cli import main
from day2ai.errors import BundleError
from day2ai.sources.base import LogQuery, SpanQuery
from day2ai.sources.bundle import load_bundle, read_truth, validate_bundle
from tests.bundle_factory import INCIDENT, T0, series, write_bundle

LOG = {"timestamp": "2026-03-14T10:31:02.113Z", "service": "checkout", "level": "error",
       "message": "payment call failed: connection refused", "trace_id": "4bf9", "attributes": {"pod": "c-1"}}
SPAN = {"trace_id": "t1", "span_id": "s1", "parent_span_id": None, "service": "frontend",
        "name": "GET /checkout", "start": T0 + 62.1, "duration_ms": 812.5, "status": "error"}
CHANGE = {"timestamp": "2026-03-14T10:12:00Z", "service": "payments", "kind": "deploy",
          "summary": "payments v2.14.0", "version": "v2.14.0"}
GOOD_LINE = b'{"timestamp": 1, "service": "a", "message": "x"}\n'
TRUTH = "root_cause:\n  service: payments\n  fault: connection_pool_exhaustion\nremediation: [rollback]\n"


def _collect(agen):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        return [x async for x in agen]
    return asyncio.run(run())


def test_valid_bundle_loads_every_file_plain_and_gz(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", topology="services:\n  - name: frontend\n    depends_on: [checkout]\n",
                        truth=TRUTH, gz=("logs",),
                        metrics=[series("cpu_usage_ratio", "checkout", [0.4, 0.5, float("nan")])],
                        logs=[LOG, {**LOG, "level": None, "extra_field": 1}], traces=[SPAN], changes=[CHANGE])
    assert validate_bundle(root) == []
    b = load_bundle(root)
    assert b.incident.symptom.service == "frontend"
    assert b.incident.alert is not None and b.incident.alert.labels["severity"] == "page"
    assert b.topology is not None and b.topology.edges() == [("frontend", "checkout")]
    logs = _collect(b.sources.logs.logs(LogQuery()))  # type: ignore[union-attr]
    assert [r.level for r in logs] == ["ERROR", None]
    assert logs[0].timestamp == pytest.approx(T0 + 31 * 60 + 2.113)
    only_err = _collect(b.sources.logs.logs(LogQuery(min_level="ERROR")))  # type: ignore[union-attr]
    assert len(only_err) == 1
    spans = _collect(b.sources.traces.spans(SpanQuery(errors_only=True)))  # type: ignore[union-attr]
    assert spans[0].status == "error"
    truth = read_truth(root)
    assert truth is not None and truth.root_cause.service == "payments"


def test_spec_allowances_are_not_errors(tmp_path: Path) -> None:
    orphan = {**SPAN, "parent_span_id": "missing-parent", "status": None, "attributes": {"x": [1, 2]}}
    nanos = {**LOG, "timestamp": "2026-03-14T10:31:02.123456789+01:00"}
    epoch = {**LOG, "timestamp": T0 + 5}
    incident = INCIDENT.replace("detected_at: 2026-03-14T10:32:00Z", "detected_at: '2026-03-14 10:32:00'")
    root = write_bundle(tmp_path / "b", incident=incident + "unknown_key: 3\n", traces=[orphan],
                        logs=[nanos, epoch], changes=[], raw={"notes.txt": b"anything", "changes.jsonl": b""})
    assert validate_bundle(root) == []
    logs = _collect(load_bundle(root).sources.logs.logs(LogQuery()))  # type: ignore[union-attr]
    assert logs[0].timestamp == pytest.approx(T0 + 31 * 60 + 2.123456789 - 3600, abs=1e-5)


BREAKAGES: list[tuple[str, dict[str, object], str, int | None, str | None]] = [
    ("bad json line", {"raw": {"logs.jsonl": b'{"timestamp": 1, "service": "a", "message": "x"}\n{oops\n'}},
     "logs.jsonl", 2, None),
    ("missing required field", {"logs": [LOG, {"timestamp": 1, "message": "x"}]}, "logs.jsonl", 2, "service"),
    ("wrong type", {"traces": [{**SPAN, "duration_ms": "slow"}]}, "traces.jsonl", 1, "duration_ms"),
    ("bad timestamp", {"changes": [{**CHANGE, "timestamp": "yesterday"}]}, "changes.jsonl", 1, "timestamp"),
    ("unknown fault word", {"truth": "root_cause:\n  service: a\n  fault: gremlins\n"}, "truth.yaml", 3,
     "root_cause.fault"),
    ("unknown change kind", {"changes": [CHANGE, {**CHANGE, "kind": "rollout"}]}, "changes.jsonl", 2, "kind"),
    ("metric value not a number", {"metrics": [series("cpu", "a", [1.0]), {"metric": {"__name__": "m", "service": "a"},
                                   "values": [[T0, "1.0"], [T0 + 15, "fast"]]}]}, "metrics.jsonl", 2,
     "values[1][1]"),
    ("corrupt gzip", {"raw": {"logs.jsonl.gz": gzip.compress(GOOD_LINE * 100)[:40]}}, "logs.jsonl.gz", None, None),
    ("values out of time order", {"metrics": [{"metric": {"__name__": "m", "service": "a"},
                                  "values": [[T0 + 15, "1"], [T0, "2"]]}]}, "metrics.jsonl", 1, "values[1][0]"),
    ("non-utf8 bytes", {"raw": {"logs.jsonl": b'{"timestamp": 1, "service": "a", "message": "caf\xe9"}\n'}},
     "logs.jsonl", 1, None),
    ("missing incident.yaml", {"raw": {}}, "incident.yaml", None, None),
    ("window end before start", {"incident": INCIDENT.replace("end: 2026-03-14T10:45:00Z",
                                                              "end: 2026-03-14T09:00:00Z")},
     "incident.yaml", 4, "window"),
    ("metric without service", {"metrics": [{"metric": {"__name__": "m"}, "values": []}]}, "metrics.jsonl", 1,
     "metric.service"),
    ("bad span status", {"traces": [{**SPAN, "status": "maybe"}]}, "traces.jsonl", 1, "status"),
    ("incident missing title", {"incident": INCIDENT.replace("title: High error rate on frontend\n", "")},
     "incident.yaml", 1, "title"),
]


@pytest.mark.parametrize(("kind", "files", "file", "line", "field"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_each_breakage_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
                                files: dict[str, object], file: str, line: int | None, field: str | None) -> None:
    root = write_bundle(tmp_path / "b", **files)  # type: ignore[arg-type]
    if kind == "missing incident.yaml":
        (root / "incident.yaml").unlink()
    problems = validate_bundle(root)
    assert len(problems) == 1, problems
    err = problems[0]
    assert isinstance(err, BundleError)
    assert err.file.endswith(file)
    assert err.line == line
    assert err.field == field
    assert main(["validate", str(root)]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert out.err.count("\n") == 1 and file in out.err


def test_validate_ok_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_bundle(tmp_path / "b", logs=[LOG])
    assert main(["validate", str(root)]) == 0
    assert "valid" in capsys.readouterr().out


def test_investigate_on_broken_bundle_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_bundle(tmp_path / "b", incident="id: [unclosed\n")
    assert main(["investigate", str(root), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "incident.yaml:" in err and "invalid YAML" in err and "Traceback" not in err


def test_fast_log_reader_builds_the_same_records_as_model_construct() -> None:
    from day2ai.sources.base import LogRecord
    from day2ai.sources.bundle import parse_log
    from day2ai.timeutil import parse_timestamp

    rows = [
        {"timestamp": "2026-04-04T14:13:45.123456Z", "service": "api", "message": "boom", "level": "error"},
        {"timestamp": 1775312025.5, "service": "api", "message": "ok", "trace_id": "t1", "attributes": {"k": 1}},
        {"timestamp": "2026-04-04T14:13:45+02:00", "service": 7, "message": "numeric service"},
        {"timestamp": "2026-04-04T14:13:60Z", "service": "api", "message": "leap second"},
    ]
    for row in rows:
        got = parse_log(row)
        want = LogRecord.model_construct(
            timestamp=parse_timestamp(row["timestamp"]),
            service=str(row["service"]),
            message=row["message"],
            level=got.level,
            trace_id=row.get("trace_id"),
            attributes=row.get("attributes", {}),
        )
        assert got == want and got.model_dump() == want.model_dump()
        assert got.model_fields_set == set(LogRecord.model_fields)
    assert parse_log(rows[0]).timestamp == pytest.approx(1775312025.123456)
    assert parse_log(rows[3]).timestamp == parse_log({**rows[3], "timestamp": "2026-04-04T14:14:00Z"}).timestamp


@pytest.mark.parametrize(
    "data",
    [b"", b"a", b"a\n", b"a\nb", b"\n\n", b"x" * (3 << 20) + b"\ny\n" + b"z" * (1 << 20), b"a\r\nb\r\n"],
)
def test_block_reader_yields_every_line_once(tmp_path: Path, data: bytes) -> None:
    import gzip

    from day2ai.sources.bundle import _open_lines

    want = [line.removesuffix(b"\n") for line in data.splitlines(keepends=True)]
    plain, packed = tmp_path / "l.jsonl", tmp_path / "l.jsonl.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    assert list(_open_lines(plain)) == want
    assert list(_open_lines(packed)) == want
