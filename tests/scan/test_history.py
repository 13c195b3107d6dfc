from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from day2ai.errors import BundleError
from day2ai.sources.history import load_history

SITE = """name: t
period: {start: 2026-01-01T00:00:00Z, end: 2026-01-15T00:00:00Z}
services:
  - name: api
    tier: 1
"""


def _write(root: Path, name: str, rows: list[object]) -> Path:
    path = root / name
    data = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def test_missing_optional_files_are_gaps(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(SITE)
    h = load_history(tmp_path)
    assert h.site.name == "t" and h.metrics == [] and h.desired is None
    assert {s for s, _ in h.gaps} == {"metrics", "incidents", "alerts", "changes", "config/desired", "config/live",
                                      "knowledge"}


def test_reads_every_file(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(SITE)
    _write(tmp_path, "metrics.jsonl.gz", [
        {"metric": {"__name__": "cpu_usage_cores", "service": "api"}, "values": [[1767225600, "0.5"], [1767225900, 1]]},
        {"metric": {"__name__": "cpu_usage_cores", "service": "api", "pod": "p"},
         "values": [["2026-01-01T00:00:00Z", "NaN"], ["2026-01-01T00:05:00.5Z", "2"]]}])
    _write(tmp_path, "incidents.jsonl", [{"id": "I1", "service": "api", "severity": "SEV2",
                                          "opened_at": "2026-01-02T00:00:00Z", "root_cause": {"fault": "disk_full"},
                                          "action_items": [{"id": "A", "status": "Open", "due": "2026-01-05"}]}])
    _write(tmp_path, "alerts.jsonl", [{"alert": "X", "service": "api", "severity": "page", "fired_at": 1767225600}])
    _write(tmp_path, "changes.jsonl", [{"timestamp": 1767225600, "service": "api", "kind": "deploy", "summary": "s",
                                        "id": "c1", "first_commit_at": 1767200000}])
    for side in ("desired", "live"):
        (tmp_path / "config" / side).mkdir(parents=True)
        (tmp_path / "config" / side / "a.yaml").write_text(
            "kind: Deployment\nmetadata: {name: api, namespace: shop}\n---\n"
            "kind: List\nitems:\n- {kind: Service, metadata: {name: api}}\n")
    (tmp_path / "knowledge" / "runbooks").mkdir(parents=True)
    (tmp_path / "knowledge" / "runbooks" / "api.md").write_text("---\nupdated: 2025-12-01\n---\n# api\n")
    h = load_history(tmp_path)
    assert [s.v.tolist()[-1] for s in h.metrics] == [1.0, 2.0]
    assert h.metrics[1].t[1] == pytest.approx(1767225900.5)
    assert h.incidents[0].severity == "sev2" and h.incidents[0].action_items[0].status == "open"
    assert h.changes[0].environment == "production" and h.changes[0].first_commit_at == 1767200000
    assert h.desired is not None and [o.key for o in h.desired] == ["Deployment/shop/api", "Service/default/api"]
    assert h.documents is not None and h.documents[0].path == "runbooks/api.md"
    assert str(h.documents[0].meta["updated"]) == "2025-12-01"
    assert h.gaps == []


@pytest.mark.parametrize(("name", "row", "where"), [
    ("incidents.jsonl", {"id": "I1", "service": "api", "severity": "sev9", "opened_at": 0}, "severity"),
    ("incidents.jsonl", {"id": "I1", "service": "api", "severity": "sev1"}, "opened_at"),
    ("incidents.jsonl", {"id": "I1", "service": "api", "severity": "sev1", "opened_at": 0,
                         "action_items": [{"due": "soon"}]}, "action_items[0].due"),
    ("alerts.jsonl", {"alert": "X", "service": "api", "severity": "page", "fired_at": 0, "acknowledged": "yes"},
     "acknowledged"),
    ("metrics.jsonl", {"metric": {"__name__": "m", "service": "api"}, "values": [[2, "1"], [1, "2"]]}, "values[1][0]"),
    ("metrics.jsonl", {"metric": {"__name__": "m", "service": "api"}, "values": [[1, "x"]]}, "values[0][1]"),
])
def test_bad_lines_name_file_line_and_field(tmp_path: Path, name: str, row: object, where: str) -> None:
    (tmp_path / "site.yaml").write_text(SITE)
    path = tmp_path / name
    path.write_bytes(b"\n" + orjson.dumps(row) + b"\n")
    with pytest.raises(BundleError) as err:
        load_history(tmp_path)
    assert err.value.file == str(path) and err.value.line == 2 and err.value.field == where


def test_bad_site_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"site\.yaml: missing"):
        load_history(tmp_path)
    (tmp_path / "site.yaml").write_text("name: t\nperiod: {start: 2026-01-02, end: 2026-01-01}\n")
    with pytest.raises(BundleError, match="period"):
        load_history(tmp_path)
    (tmp_path / "site.yaml").write_text(SITE)
    (tmp_path / "config" / "live").mkdir(parents=True)
    (tmp_path / "config" / "live" / "x.yaml").write_text("kind: [\n")
    with pytest.raises(BundleError, match=r"x\.yaml:2: invalid YAML"):
        load_history(tmp_path)


def test_other_tools_severity_spellings_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(SITE)
    _write(tmp_path, "incidents.jsonl", [{"id": "I1", "service": "api", "severity": "P1", "opened_at": 0}])
    _write(tmp_path, "alerts.jsonl", [{"alert": "X", "service": "api", "severity": "critical", "fired_at": 0}])
    h = load_history(tmp_path)
    assert (h.incidents[0].severity, h.alerts[0].severity) == ("sev1", "page")


def test_other_peer_label_names_read_as_peer(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(SITE)
    _write(tmp_path, "metrics.jsonl", [
        {"metric": {"__name__": "client_error_ratio", "service": "api", "upstream": "db"}, "values": [[1, "0"]]},
        {"metric": {"__name__": "cpu_usage_cores", "service": "api", "target": "x"}, "values": [[1, "0"]]}])
    h = load_history(tmp_path)
    assert h.metrics[0].labels["peer"] == "db" and "peer" not in h.metrics[1].labels
