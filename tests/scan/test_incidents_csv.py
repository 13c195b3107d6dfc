"""Incidents imported from PagerDuty and Opsgenie CSV exports (live mode ``--incidents FILE.csv``)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from day2ai.errors import BundleError
from day2ai.scan.engine import analyse
from day2ai.sources.history_csv import read_incidents_csv
from day2ai.sources.history_live import load_live_history
from day2ai.timeutil import iso

T0 = 1767225600.0
NOW = T0 + 30 * 86400


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def pagerduty_rows(n: int, seed: int) -> tuple[list[list[str]], list[float], list[float]]:
    """PagerDuty analytics-style rows; returns them with the true minutes to ack and to resolve."""
    rng = random.Random(seed)
    rows, acks, fixes = [], [], []
    for i in range(n):
        opened = T0 + rng.uniform(0, 28 * 86400)
        ack, fix = rng.uniform(60, 1800), rng.uniform(1800, 14400)
        acks.append(ack / 60)
        fixes.append(fix / 60)
        urgency = rng.choice(["high", "low"])
        rows.append([f"Q{i:04d}", str(1000 + i), f"checkout errors, case {i}", "checkout", urgency, "",
                     iso(opened), iso(opened + fix) if i % 2 else "", str(ack), str(fix)])
    return rows, acks, fixes


PD_HEADER = ["id", "incident_number", "description", "service_name", "urgency", "priority_name", "created_on",
             "resolved_on", "seconds_to_first_ack", "seconds_to_resolve"]


async def test_pagerduty_csv_feeds_the_scorecard(tmp_path: Path) -> None:
    rows, acks, fixes = pagerduty_rows(9, seed=4)
    path = write_csv(tmp_path / "pd.csv", PD_HEADER, rows)
    cfg = tmp_path / "site.yaml"
    cfg.write_text("site: shop\n")
    h = await load_live_history(cfg, "30d", now=NOW, incidents_file=path)
    assert len(h.incidents) == 9 and "incidents" in h.present
    assert {i.severity for i in h.incidents} <= {"sev2", "sev3"}
    report = analyse(h)
    assert report.health.incidents == 9
    assert report.health.mttr_minutes_median == pytest.approx(sorted(fixes)[4], rel=1e-3)
    assert report.health.mtta_minutes_median == pytest.approx(sorted(acks)[4], rel=1e-3)


def test_opsgenie_csv_times_and_priorities(tmp_path: Path) -> None:
    header = ["TinyId", "Message", "Priority", "Impacted Services", "CreatedAt", "AcknowledgedAt", "ClosedAt"]
    ms = int(T0 * 1000)
    path = write_csv(tmp_path / "og.csv", header, [
        ["41", "db disk full", "P1", "orders-db, orders", str(ms), str(ms + 300_000), str(ms + 3_600_000)],
        ["42", "slow", "P5", "search", "2026/01/02 10:00:00", "", ""],
    ])
    first, second = read_incidents_csv(path)
    assert (first.id, first.service, first.severity) == ("41", "orders-db", "sev1")
    assert (first.opened_at, first.acknowledged_at, first.resolved_at) == (T0, T0 + 300, T0 + 3600)
    assert (second.severity, second.opened_at, second.resolved_at) == ("sev4", T0 + 86400 + 36000, None)


def test_bad_csv_names_file_line_and_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", PD_HEADER, [*pagerduty_rows(2, seed=1)[0],
                                                     ["Q9", "9", "t", "api", "high", "", "yesterday", "", "", ""]])
    with pytest.raises(BundleError, match=r"x\.csv:4: opened_at: "):
        read_incidents_csv(path)
    nocol = write_csv(tmp_path / "y.csv", ["id", "title", "created_at"], [["1", "t", iso(T0)]])
    with pytest.raises(BundleError, match=r"y\.csv:1: no column for service"):
        read_incidents_csv(nocol)
    nosev = write_csv(tmp_path / "z.csv", ["id", "service", "created_at"], [["1", "api", iso(T0)]])
    with pytest.raises(BundleError, match=r"z\.csv:2: severity: no severity"):
        read_incidents_csv(nosev)
