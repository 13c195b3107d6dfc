"""Tests of the evidence helpers built on the miner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from day2ai.analysis.logmining import TemplateMiner
from day2ai.analysis.logmining.helpers import (
    LogRecord,
    error_templates,
    join_multiline,
    new_templates,
    rate_changes,
    template_counts,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def rec(minute: float, message: str, service: str = "api", level: str = "INFO") -> LogRecord:
    return LogRecord(timestamp=T0 + timedelta(minutes=minute), service=service, level=level, message=message)


def test_join_multiline_keeps_stack_traces_together() -> None:
    lines = [
        "ERROR boom",
        "java.lang.IllegalStateException: bad",
        "\tat a.b.C.d(C.java:10)",
        "    at a.b.C.e(C.java:20)",
        "Caused by: java.io.IOException: x",
        "\t... 3 more",
        "INFO next",
        "",
    ]
    records = list(join_multiline(lines))
    assert records == [
        "ERROR boom",
        "java.lang.IllegalStateException: bad\n\tat a.b.C.d(C.java:10)\n    at a.b.C.e(C.java:20)\n"
        "Caused by: java.io.IOException: x\n\t... 3 more",
        "INFO next",
        "",
    ]
    assert list(join_multiline(["  orphan continuation"])) == ["  orphan continuation"]


def test_template_counts_per_bucket_and_service() -> None:
    records = [rec(m / 10, f"GET /items/{m} 200", "api") for m in range(15)]
    records += [rec(1.5, "cache miss for key 7", "cache")]
    counts = template_counts(records, bucket_seconds=60)
    assert sum(c.count for c in counts) == 16
    api = [c for c in counts if c.service == "api"]
    assert [c.count for c in api] == [10, 5]
    assert {c.template for c in api} == {"GET <*> <*>"}
    assert api[0].bucket_start == T0 and api[1].bucket_start == T0 + timedelta(minutes=1)


def test_new_templates_against_baseline() -> None:
    baseline = [rec(i, f"request {i} served in {i * 3} ms") for i in range(20)]
    incident = [rec(30 + i, f"request {i} served in {i} ms") for i in range(5)]
    incident += [rec(31 + i, f"connection pool exhausted after {i} waits", "db") for i in range(3)]
    found = new_templates(baseline, incident)
    assert [t.template for t in found] == ["connection pool exhausted after <*> waits"]
    assert found[0].count == 3 and found[0].services == ["db"]
    assert found[0].example == "connection pool exhausted after 0 waits"


def test_rate_changes_rank_the_biggest_change_first() -> None:
    baseline = [rec(i / 2, f"heartbeat {i} ok") for i in range(60)] + [rec(i, f"retry {i}") for i in range(3)]
    incident = [rec(40 + i / 2, f"heartbeat {i} ok") for i in range(60)]
    incident += [rec(40 + i / 10, f"retry {i}") for i in range(300)]
    changes = rate_changes(baseline, incident, baseline_minutes=30, incident_minutes=30)
    assert changes[0].template == "retry <*>"
    assert changes[0].incident_per_min > 5 * changes[0].baseline_per_min
    steady = next(c for c in changes if c.template == "heartbeat <*> ok")
    assert abs(steady.ratio - 1) < 0.05 and steady.score < changes[0].score


def test_error_templates_with_one_example_each() -> None:
    records = [
        rec(0, "user 1 logged in"),
        rec(1, "Timeout talking to db-3 after 30s", level="WARN"),
        rec(2, "Timeout talking to db-4 after 31s", level="WARN"),
        rec(3, "java.lang.NullPointerException: x\n\tat a.b(C.java:1)", level="ERROR"),
        rec(4, "disk full on /dev/sda1", level="ERROR", service="node"),
    ]
    errors = error_templates(records)
    texts = {e.template: e for e in errors}
    assert "user <*> logged in" not in texts
    assert len(errors) == 3
    assert any(e.count == 2 and e.example.startswith("Timeout talking to db-3") for e in errors)
    npe = next(e for e in errors if "NullPointerException" in e.template)
    assert "\n\tat" in npe.example


def test_helpers_share_a_miner_vocabulary() -> None:
    miner = TemplateMiner()
    a = template_counts([rec(0, "job 5 done")], miner=miner)
    b = template_counts([rec(0, "job 6 done")], miner=miner)
    assert a[0].template_id == b[0].template_id
