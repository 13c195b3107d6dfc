"""Real-data mode: reshape a simulated bundle the way public real-incident datasets come.

Real datasets (the Nezha Train Ticket cases, for one) rarely look like a tidy simulation: the explicit
baseline is one fault-free minute that is not adjacent to the incident, cut from the end of a
longer fault-free capture whose first minutes lie before the declared window; logs and spans only
cover that capture and a few minutes around the fault, spans carry no status (errors show only
through logs and timing), metrics are sampled once a minute, and there is no topology and no change
log. This module rewrites a written case directory in place into that shape, so that the
investigator can be evaluated on it next to the tidy suites (``day2ai simulate --mode real``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from day2ai.evaluation.simulator.writer import rfc3339, write_jsonl, write_yaml
from day2ai.timeutil import parse_timestamp as to_epoch

BASELINE_S = 60.0  # the fault-free minute real datasets give
CAPTURE_BEFORE_S = 120.0  # the fault-free capture starts this long before that minute (Nezha: 2 min)
BEFORE_DETECTION_S = 90.0  # logs and spans start this long before the alert (Nezha: 90 s)
AFTER_DETECTION_S = 150.0  # ... and end this long after it (three minutes in all)
METRIC_STEP_S = 60.0  # one-minute metrics
_STATUS_KEYS = ("status", "error", "exception")


def _path(case: Path, stem: str) -> Path | None:
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        if (case / name).exists():
            return case / name
    return None


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _rewrite(case: Path, stem: str, keep: Any) -> None:
    path = _path(case, stem)
    if path is None:
        return
    rows = [r for row in _rows(path) if (r := keep(row)) is not None]
    gz = path.suffix == ".gz"
    write_jsonl(path.with_suffix("") if gz else path, rows, gz=gz)


def _in(periods: list[tuple[float, float]], t: float) -> bool:
    return any(a <= t < b for a, b in periods)


def downsample(values: list[list[Any]], step: float = METRIC_STEP_S) -> list[list[Any]]:
    """One sample per ``step`` (the last of each step, as a scrape at that interval would read)."""
    out: dict[int, list[Any]] = {}
    for ts, v in values:
        out[int(float(ts) // step)] = [int(float(ts) // step * step), v]
    return [out[k] for k in sorted(out)]


def strip_status(span: dict[str, Any]) -> dict[str, Any]:
    """A span without status: no status field, no status/error attributes."""
    span = {k: v for k, v in span.items() if k != "status"}
    attrs = span.get("attributes") or {}
    span["attributes"] = {k: v for k, v in attrs.items() if not any(s in k.lower() for s in _STATUS_KEYS)}
    return span


def to_real_mode(case: Path) -> None:
    """Rewrite the bundle in ``case`` into the real-data shape (see the module docstring)."""
    incident = yaml.safe_load((case / "incident.yaml").read_text())
    w0 = to_epoch(incident["window"]["start"])
    detected = to_epoch(incident["detected_at"])
    # the last minute of a fault-free capture at the start of the simulation, not adjacent to the
    # incident; the declared window starts with that minute, the capture before it
    b0 = w0 + CAPTURE_BEFORE_S
    cover = [(w0, b0 + BASELINE_S), (detected - BEFORE_DETECTION_S, detected + AFTER_DETECTION_S)]
    incident["baseline"] = {"start": rfc3339(b0), "end": rfc3339(b0 + BASELINE_S)}
    incident["window"]["start"] = rfc3339(b0)
    write_yaml(case / "incident.yaml", incident)

    def log(row: dict[str, Any]) -> dict[str, Any] | None:
        return row if _in(cover, to_epoch(row["timestamp"])) else None

    def span(row: dict[str, Any]) -> dict[str, Any] | None:
        return strip_status(row) if _in(cover, float(row["start"])) else None

    def metric(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "values": downsample(row["values"])}

    _rewrite(case, "logs", log)
    _rewrite(case, "traces", span)
    _rewrite(case, "metrics", metric)
    for name in ("topology.yaml", "topology.json", "changes.jsonl", "changes.jsonl.gz"):
        (case / name).unlink(missing_ok=True)
