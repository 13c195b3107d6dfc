"""Failures that look like success (#16): a bad line is skipped and counted, the good lines around
it are kept, the user is told on stderr, and --strict / validate turn it into exit 2."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from day2ai.cli import main
from day2ai.sources.bundle import load_bundle, validate_bundle
from tests.bundle_factory import T0, write_bundle

GOOD_LOG = {"timestamp": T0 + 60, "service": "checkout", "level": "ERROR", "message": "boom"}
GOOD_SPAN = {"trace_id": "t", "span_id": "s", "service": "a", "name": "GET /", "start": T0, "duration_ms": 5.0}
GOOD_CHANGE = {"timestamp": T0, "service": "a", "kind": "deploy", "summary": "v2"}
GOOD_SERIES = {"metric": {"__name__": "cpu_usage_ratio", "service": "a"}, "values": [[T0, "0.1"], [T0 + 15, "0.2"]]}

# (kind, bad line as bytes, field named in the problem or None)
BAD_LINES: list[tuple[str, bytes, str | None]] = [
    ("logs", b"\x00\x01\xff\xfe binary garbage \x89PNG", None),
    ("logs", b'{"timestamp": 1, "service": "a", "message": "caf\xe9"}', None),
    ("logs", b'{"service": "a", "message": "no time"}', "timestamp"),
    ("logs", b'{"timestamp": 1, "service": ["a"], "message": "x"}', "service"),
    ("logs", b'{"timestamp": 1e309, "service": "a", "message": "x"}', None),
    ("logs", b'{"timestamp": "NaN", "service": "a", "message": "x"}', "timestamp"),
    ("logs", b'{"timestamp": "inf", "service": "a", "message": "x"}', "timestamp"),
    ("logs", b'{"timestamp": "1e309", "service": "a", "message": "x"}', "timestamp"),
    ("logs", b'["not", "an", "object"]', None),
    ("traces", json.dumps({**GOOD_SPAN, "duration_ms": -3}).encode(), "duration_ms"),
    ("traces", json.dumps({**GOOD_SPAN, "duration_ms": "slow"}).encode(), "duration_ms"),
    ("changes", json.dumps({**GOOD_CHANGE, "kind": "rollout"}).encode(), "kind"),
    ("metrics", json.dumps({**GOOD_SERIES, "values": [[T0 + 15, "1"], [T0, "2"]]}).encode(), "values[1][0]"),
    ("metrics", json.dumps({**GOOD_SERIES, "values": [["NaN", "1"]]}).encode(), "values[0][0]"),
]
GOOD: dict[str, dict[str, Any]] = {"logs": GOOD_LOG, "traces": GOOD_SPAN, "changes": GOOD_CHANGE,
                                   "metrics": GOOD_SERIES}


def _file(kind: str, bad: bytes) -> bytes:
    good = json.dumps(GOOD[kind]).encode()
    return b"\n".join([good, bad, good, good]) + b"\n"


@pytest.mark.parametrize(("kind", "bad", "field"), BAD_LINES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD_LINES)])
def test_bad_line_is_skipped_and_the_rest_kept(tmp_path: Path, kind: str, bad: bytes, field: str | None) -> None:
    root = write_bundle(tmp_path / "b", raw={f"{kind}.jsonl": _file(kind, bad)})
    bundle = load_bundle(root)
    assert len(list(bundle.iter_file(kind))) == 3  # the lines after the bad one are not lost
    (gap,) = bundle.data_gaps()
    assert gap.source == f"bundle:{kind}.jsonl" and "skipped 1 bad line (line 2)" in gap.reason
    (problem,) = validate_bundle(root)
    assert problem.line == 2 and problem.field == field


def test_investigate_warns_on_stderr_and_names_the_gap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [json.dumps({**GOOD_LOG, "timestamp": T0 + i}).encode() for i in range(10)]
    lines[3] = lines[4] = b"{broken"
    lines[8] = b'{"timestamp": 1e309, "service": "a", "message": "x"}'
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl": b"\n".join(lines) + b"\n"})
    assert main(["investigate", str(root), "--format", "json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    (gap,) = [g for g in report["gaps"] if g["source"] == "bundle:logs.jsonl"]
    assert "skipped 3 bad lines (lines 4-5, 9)" in gap["reason"]
    warnings = [line for line in out.err.splitlines() if "logs.jsonl" in line]
    assert len(warnings) == 1 and warnings[0].startswith("day2ai: warning:")
    assert main(["investigate", str(root), "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "logs.jsonl:4" in err and "--strict" in err


def test_valid_bundle_passes_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_bundle(tmp_path / "b", logs=[GOOD_LOG])
    assert main(["investigate", str(root), "--strict", "--format", "json"]) == 0
    assert "bundle:" not in capsys.readouterr().out


def test_bom_is_accepted(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl": b"\xef\xbb\xbf" + _file("logs", b"")})
    (root / "incident.yaml").write_bytes(b"\xef\xbb\xbf" + (root / "incident.yaml").read_bytes())
    assert validate_bundle(root) == []
    assert len(list(load_bundle(root).iter_file("logs"))) == 3


def test_truncated_gzip_keeps_the_lines_before(tmp_path: Path) -> None:
    data = b"".join(json.dumps({**GOOD_LOG, "message": f"m{i}"}).encode() + b"\n" for i in range(20_000))
    packed = gzip.compress(data)
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl.gz": packed[: len(packed) // 2]})
    bundle = load_bundle(root)
    n = len(list(bundle.iter_file("logs")))
    assert 0 < n < 20_000
    assert "truncated gzip" in bundle.data_gaps()[0].reason
    assert validate_bundle(root)


def test_fake_gzip_is_named(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl.gz": b"this is not gzip at all\n"})
    bundle = load_bundle(root)
    assert list(bundle.iter_file("logs")) == []
    assert "logs.jsonl.gz" in bundle.data_gaps()[0].source
    (problem,) = validate_bundle(root)
    assert problem.file.endswith("logs.jsonl.gz")


def test_validate_rejects_non_finite_incident_times(tmp_path: Path) -> None:
    from tests.bundle_factory import INCIDENT

    root = write_bundle(tmp_path / "b", incident=INCIDENT.replace("detected_at: 2026-03-14T10:32:00Z",
                                                                  "detected_at: '1e309'"))
    (problem,) = validate_bundle(root)
    assert problem.file.endswith("incident.yaml")


def test_empty_recorded_bundle_is_refused(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b", raw={"logs.jsonl": b"", "metrics.jsonl": b"",
                                             "recording.yaml": b"gaps: [{source: metrics, reason: down}]\n"})
    (problem,) = validate_bundle(root)
    assert "holds no telemetry" in problem.problem
    (root / "recording.yaml").unlink()  # a hand-written bundle may be empty: that is not an error
    assert validate_bundle(root) == []
