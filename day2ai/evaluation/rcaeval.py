"""Convert RCAEval benchmark cases (RE1, RE2, RE3) into incident bundles.

RCAEval (Pham et al., https://github.com/phamquiluan/RCAEval) publishes each failure case as a
directory ``<system>/<service>_<fault>/<run>/``, e.g. ``RE2-OB/checkoutservice_cpu/1``, holding:

- a metrics CSV: ``data.csv`` (RE1), ``simple_metrics.csv`` and ``metrics.csv`` (RE2, RE3), with
  a ``time`` column (epoch seconds) and one ``<service>_<metric>`` column per series
  (``cartservice_cpu``, ``frontend_latency-90``, ``adservice_container-cpu-usage-seconds-total``);
- ``inject_time.txt``: the epoch second the fault was injected;
- optionally ``logs.csv`` (``time, timestamp, container_name, message, level, ...``; ``timestamp``
  in nanoseconds) and ``traces.csv`` (``traceID, spanID, parentSpanID, serviceName,
  operationName, methodName, startTime, startTimeMillis, duration, statusCode``; ``startTime``
  and ``duration`` in microseconds).

The truth is only in the directory name: the service before the last ``_``, the fault after it.
RCAEval fault names map to the day2ai taxonomy as follows:

======== =============================== ==================================================
RCAEval  day2ai fault                    why
======== =============================== ==================================================
cpu      ``cpu_saturation``              CPU hog (stress-ng) in the service's container
mem      ``memory_leak``                 memory hog: usage grows until pressure or OOM
disk     ``disk_full``                   disk I/O stress ("disk exhausted or I/O saturated")
delay    ``network_delay``               ``tc`` added latency on the service's network
loss     ``packet_loss``                 ``tc`` dropped packets
socket   ``connection_pool_exhaustion``  socket/connection exhaustion in the service
f1..f5   ``code_error``                  RE3 code-level faults (bad parameters, missing
                                         calls or handlers, wrong return values)
other    ``other``                       anything else
======== =============================== ==================================================

Bundles get opaque ids (``<prefix>-<hash of the case path>``) so that the incident an
investigator sees never spells out the answer; ``rcaeval-cases.csv`` at the output root maps ids
back to case paths, and ``truth.yaml`` names the case in its ``detail``. The incident is
detected at the injection time (plus an optional delay, like RCAEval's ``t_delta``); the
baseline is the part of the window before injection. Metric values are copied as recorded
(RCAEval units); the common short names get the bundle spec's suggested names (see
``METRIC_NAMES``), the others keep their name made Prometheus-safe. Directories that do not
follow the layout (such as ``checkoutservice_cpu/multi-source-data``, a copy of run 1) are skipped.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from day2ai.errors import InputError
from day2ai.models import Fault
from day2ai.timeutil import iso

FAULTS: dict[str, Fault] = {
    "cpu": Fault.CPU_SATURATION, "mem": Fault.MEMORY_LEAK, "memory": Fault.MEMORY_LEAK,
    "disk": Fault.DISK_FULL, "delay": Fault.NETWORK_DELAY, "latency": Fault.NETWORK_DELAY,
    "loss": Fault.PACKET_LOSS, "socket": Fault.CONNECTION_POOL_EXHAUSTION,
    **{f"f{i}": Fault.CODE_ERROR for i in range(1, 6)},
}
REMEDIATION_WORDS: dict[Fault, list[str]] = {
    Fault.CPU_SATURATION: ["cpu", "scale"], Fault.MEMORY_LEAK: ["memory", "restart"],
    Fault.DISK_FULL: ["disk"], Fault.NETWORK_DELAY: ["network"], Fault.PACKET_LOSS: ["network"],
    Fault.CONNECTION_POOL_EXHAUSTION: ["connection", "socket"], Fault.CODE_ERROR: ["rollback", "fix"],
}
METRIC_NAMES = {
    "cpu": "cpu_usage_ratio", "mem": "memory_working_set_bytes", "diskio": "disk_io_rate",
    "socket": "connections_in_use", "latency-50": "request_latency_p50_seconds",
    "latency-90": "request_latency_p90_seconds", "latency": "request_latency_p90_seconds",
    "error": "request_error_rate", "workload": "request_rate",
}
METRICS_FILES = ("simple_metrics.csv", "data.csv", "simple_data.csv", "metrics.csv")
TIME_COLUMNS = ("time", "timestamp")
MANIFEST = "rcaeval-cases.csv"


@dataclass(frozen=True)
class RCAEvalCase:
    """One case directory and the truth its path encodes."""

    path: Path
    rel: str  # the path relative to the converted root, with "/" separators
    service: str
    fault_word: str
    metrics_file: Path

    @property
    def fault(self) -> Fault:
        return FAULTS.get(self.fault_word.lower(), Fault.OTHER)


@dataclass
class Conversion:
    """What :func:`convert_tree` did."""

    bundles: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why"


def parse_case_name(name: str) -> tuple[str, str] | None:
    """``checkoutservice_cpu`` -> (``checkoutservice``, ``cpu``); None if there is no ``_``."""
    service, sep, fault = name.rpartition("_")
    if not sep or not service or not fault or not re.fullmatch(r"[A-Za-z0-9]+", fault):
        return None
    return service, fault


def _metrics_file(path: Path, preferred: str | None) -> Path | None:
    names = (preferred,) if preferred else METRICS_FILES
    return next((path / n for n in names if n and (path / n).is_file()), None)


def find_cases(root: str | Path, *, metrics_file: str | None = None) -> tuple[list[RCAEvalCase], list[str]]:
    """Every case directory under ``root`` (sorted), and the candidates skipped with why."""
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"{base}: not a directory")
    cases: list[RCAEvalCase] = []
    skipped: list[str] = []
    for inject in sorted(base.rglob("inject_time.txt")):
        d = inject.parent
        rel = d.relative_to(base).as_posix() if d != base else d.name
        metrics = _metrics_file(d, metrics_file)
        named = parse_case_name(d.parent.name) if d.name.isdigit() else parse_case_name(d.name)
        if metrics is None:
            skipped.append(f"{rel}: no metrics file ({metrics_file or ', '.join(METRICS_FILES)})")
        elif named is None:
            skipped.append(f"{rel}: not a <service>_<fault>/<run> directory")
        else:
            cases.append(RCAEvalCase(path=d, rel=rel, service=named[0], fault_word=named[1],
                                     metrics_file=metrics))
    return cases, skipped


# ---------------------------------------------------------------- CSV reading


def _open_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV file with a header."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, {k: v for k, v in row.items() if k is not None}
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except csv.Error as exc:
        raise InputError(f"{path}: invalid CSV: {exc}") from None


def _float(text: str | None) -> float:
    if text is None or not text.strip():
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def epoch_seconds(value: float) -> float:
    """Epoch seconds from seconds, milliseconds, microseconds or nanoseconds (by magnitude)."""
    for scale, limit in ((1e9, 1e17), (1e6, 1e14), (1e3, 1e11)):
        if abs(value) > limit:
            return value / scale
    return value


def _first(row: dict[str, str], names: tuple[str, ...]) -> str | None:
    for n in names:
        v = row.get(n)
        if v is not None and v.strip() and v.strip().lower() != "nan":
            return v.strip()
    return None


def metric_name(raw: str) -> str:
    """The bundle metric name of an RCAEval metric suffix."""
    known = METRIC_NAMES.get(raw.lower())
    return known or (re.sub(r"[^a-zA-Z0-9_]+", "_", raw).strip("_").lower() or "value")


def read_metrics(path: Path) -> tuple[list[float], dict[tuple[str, str], list[float]]]:
    """Times (sorted, distinct) and the values of each (service, metric suffix) column."""
    rows: list[tuple[float, dict[str, str]]] = []
    time_col: str | None = None
    for lineno, row in _open_csv(path):
        if time_col is None:
            time_col = next((c for c in TIME_COLUMNS if c in row), None)
            if time_col is None:
                raise InputError(f"{path}:1: no time column (one of {', '.join(TIME_COLUMNS)})")
        t = _float(row.get(time_col))
        if math.isnan(t):
            raise InputError(f"{path}:{lineno}: {time_col}: not a number: {row.get(time_col)!r}")
        rows.append((epoch_seconds(t), row))
    if not rows or time_col is None:
        raise InputError(f"{path}: no rows")
    rows.sort(key=lambda r: r[0])
    times: list[float] = []
    columns: dict[tuple[str, str], list[float]] = {}
    keys = [(c, *c.split("_", 1)) for c in rows[0][1] if c != time_col and "_" in c and not c.startswith("_")]
    for t, row in rows:
        if times and t <= times[-1]:
            continue
        times.append(t)
        for col, service, metric in keys:
            columns.setdefault((service, metric), []).append(_float(row.get(col)))
    return times, {k: v for k, v in columns.items() if not all(math.isnan(x) for x in v)}


def read_inject_time(path: Path) -> float:
    file = path / "inject_time.txt"
    text = file.read_text(encoding="utf-8", errors="replace").strip()
    try:
        return epoch_seconds(float(text.split()[0]))
    except (ValueError, IndexError):
        raise InputError(f"{file}:1: not an epoch timestamp: {text[:40]!r}") from None


# ---------------------------------------------------------------- writing


def _writer(path: Path, compress: bool) -> gzip.GzipFile | io.BufferedWriter:
    if compress:
        return gzip.GzipFile(path.with_name(path.name + ".gz"), "wb", compresslevel=5, mtime=0)
    return open(path, "wb")


def _line(obj: dict[str, Any]) -> bytes:
    return orjson.dumps(obj) + b"\n"


def write_metrics(out: Path, times: list[float], columns: dict[tuple[str, str], list[float]],
                  compress: bool) -> int:
    with _writer(out / "metrics.jsonl", compress) as fh:
        for (service, metric), values in sorted(columns.items()):
            labels = {"__name__": metric_name(metric), "service": service, "rcaeval_metric": metric}
            pairs = [[t, "NaN" if math.isnan(v) else repr(v)] for t, v in zip(times, values, strict=True)]
            fh.write(_line({"metric": labels, "values": pairs}))
    return len(columns)


def _log(row: dict[str, str]) -> dict[str, Any] | None:
    message = row.get("message") if row.get("message") is not None else row.get("log")
    service = _first(row, ("container_name", "service", "serviceName", "container"))
    raw_time = _first(row, ("timestamp", "time"))
    t = _float(raw_time)
    if message is None or service is None or math.isnan(t):
        return None
    skip = ("message", "log", "timestamp", "time", "level", "container_name")
    attrs = {k: v for k, v in row.items() if k not in skip and v and v != "nan"}
    return {"timestamp": epoch_seconds(t), "service": service, "message": message,
            "level": _first(row, ("level",)), "attributes": attrs}


def _status(code: str | None) -> str | None:
    """HTTP codes >= 400 and non-zero gRPC codes are errors; 0 and 1xx-3xx are ok; blank is unknown."""
    value = _float(code)
    if math.isnan(value):
        return None
    if value == 0 or 100 <= value < 400:
        return "ok"
    return "error"


def _span(row: dict[str, str]) -> dict[str, Any] | None:
    trace, span = _first(row, ("traceID", "trace_id")), _first(row, ("spanID", "span_id"))
    service = _first(row, ("serviceName", "service"))
    start_us, start_ms = _float(row.get("startTime")), _float(row.get("startTimeMillis"))
    start = epoch_seconds(start_us) if not math.isnan(start_us) else epoch_seconds(start_ms)
    duration_us = _float(row.get("duration"))
    if not trace or not span or not service or math.isnan(start) or math.isnan(duration_us):
        return None
    attrs = {k: row[k] for k in ("methodName", "statusCode") if row.get(k) and row[k] != "nan"}
    parent = _first(row, ("parentSpanID", "parent_span_id"))
    return {"trace_id": trace, "span_id": span, "parent_span_id": parent, "service": service,
            "name": _first(row, ("operationName", "methodName")) or "span",
            "start": start, "duration_ms": max(0.0, duration_us / 1000.0),
            "status": _status(row.get("statusCode")), "attributes": attrs}


def _copy_rows(src: Path, out: Path, compress: bool, convert: Any) -> tuple[int, int]:
    kept = dropped = 0
    with _writer(out, compress) as fh:
        for _, row in _open_csv(src):
            obj = convert(row)
            if obj is None:
                dropped += 1
                continue
            fh.write(_line(obj))
            kept += 1
    return kept, dropped


def _safe_label(name: str) -> str | None:
    """A directory name fit to show an investigator: not a ``<service>_<fault>`` name, not a run number."""
    return None if not name or name.isdigit() or parse_case_name(name) is not None else name


def bundle_id(case: RCAEvalCase, prefix: str) -> str:
    return f"{prefix}-{hashlib.sha256(case.rel.encode()).hexdigest()[:10]}"


def convert_case(case: RCAEvalCase, out_dir: str | Path, *, bundle: str, dataset: str = "RCAEval",
                 detection_delay: float = 0.0, compress: bool = False) -> Path:
    """Write one bundle for ``case`` into ``out_dir/bundle``; return its path."""
    out = Path(out_dir) / bundle
    out.mkdir(parents=True, exist_ok=True)
    inject = read_inject_time(case.path)
    times, columns = read_metrics(case.metrics_file)
    start, end = times[0], times[-1]
    detected = min(max(inject + detection_delay, start), end)
    incident: dict[str, Any] = {
        "id": bundle, "title": f"{dataset}: anomalous behaviour detected",
        "detected_at": detected,
        "window": {"start": start, "end": end},
        "symptom": {"service": None,
                    "description": f"{dataset} case: services misbehave after {iso(inject)}"},
    }
    if start < inject <= end:
        incident["baseline"] = {"start": start, "end": inject}
    notes = {"metrics": write_metrics(out, times, columns, compress)}
    for name, conv in (("logs", _log), ("traces", _span)):
        src = case.path / f"{name}.csv"
        if src.is_file():
            notes[name], notes[f"{name}_dropped"] = _copy_rows(src, out / f"{name}.jsonl", compress, conv)
    (out / "incident.yaml").write_text(yaml.safe_dump(incident, sort_keys=False), encoding="utf-8")
    truth = {"root_cause": {"service": case.service, "fault": case.fault.value,
                            "detail": f"RCAEval {case.rel}: injected fault '{case.fault_word}' "
                                      f"({', '.join(f'{k} {v}' for k, v in notes.items())})"},
             "remediation": REMEDIATION_WORDS.get(case.fault, [])}
    (out / "truth.yaml").write_text(yaml.safe_dump(truth, sort_keys=False), encoding="utf-8")
    return out


def convert_tree(root: str | Path, out_dir: str | Path, *, prefix: str | None = None,
                 metrics_file: str | None = None, detection_delay: float = 0.0,
                 compress: bool = False) -> Conversion:
    """Convert every case under ``root`` into a suite at ``out_dir`` (plus the id manifest)."""
    base = Path(root)
    cases, skipped = find_cases(base, metrics_file=metrics_file)
    if not cases:
        raise InputError(f"{base}: no RCAEval cases (<service>_<fault>/<run>/ with inject_time.txt and a "
                         "metrics CSV)")
    label = _safe_label(base.resolve().name)
    name = prefix or re.sub(r"[^a-z0-9]+", "-", (label or "rcaeval").lower()).strip("-") or "rcaeval"
    result = Conversion(skipped=skipped)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / MANIFEST, "w", encoding="utf-8", newline="") as fh:
        manifest = csv.writer(fh)
        manifest.writerow(["bundle", "case", "service", "rcaeval_fault", "fault"])
        for case in cases:
            bid = bundle_id(case, name)
            dataset = f"RCAEval {_safe_label(case.rel.split('/')[0]) or label or ''}".strip()
            result.bundles.append(convert_case(case, out, bundle=bid, dataset=dataset,
                                               detection_delay=detection_delay, compress=compress))
            manifest.writerow([bid, case.rel, case.service, case.fault_word, case.fault.value])
    return result
