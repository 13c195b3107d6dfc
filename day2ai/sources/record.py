"""Snapshot what live backends return for an incident into an incident bundle.

:func:`record_bundle` asks every available source for the whole span of the incident (baseline
start to window end) and writes ``incident.yaml``, the JSONL files and ``topology.yaml`` in the
bundle format (shared/spec/incident-bundle.md), streaming as it reads. It never writes
``truth.yaml``. A backend that fails leaves what it returned so far, and the failure is named in
``recording.yaml`` (an extra file bundle readers ignore) and in the returned summary. Replaying
the bundle gives an investigator what the live backends gave it.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, Field

from day2ai.errors import Day2AIError, InputError
from day2ai.models import Gap, Incident
from day2ai.sources.base import (
    DENSE_LOOKBACK_S,
    Change,
    ChangeQuery,
    LogQuery,
    LogRecord,
    MetricQuery,
    MetricSeries,
    Sources,
    Span,
    SpanQuery,
)
from day2ai.timeutil import iso

CONTEXT_LOOKBACK = 6 * 3600.0  # what day2ai.tools reads before the window (metrics, changes)


class RecordSummary(BaseModel):
    """What was written, and what could not be."""

    path: str
    counts: dict[str, int] = Field(default_factory=dict)
    gaps: list[Gap] = Field(default_factory=list)
    truncated: list[str] = Field(default_factory=list)
    seconds: float = 0.0


def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def series_line(s: MetricSeries) -> dict[str, Any]:
    return {"metric": {"__name__": s.name, **s.labels, "service": s.service},
            "values": [[t, _num(v)] for t, v in zip(s.timestamps, s.values, strict=True)]}


def log_line(r: LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"timestamp": r.timestamp, "service": r.service, "level": r.level,
                           "message": r.message}
    if r.trace_id:
        out["trace_id"] = r.trace_id
    if r.attributes:
        out["attributes"] = r.attributes
    return out


def span_line(s: Span) -> dict[str, Any]:
    return {"trace_id": s.trace_id, "span_id": s.span_id, "parent_span_id": s.parent_span_id,
            "service": s.service, "name": s.name, "start": s.start, "duration_ms": s.duration_ms,
            "status": s.status, "attributes": s.attributes}


def change_line(c: Change) -> dict[str, Any]:
    return {"timestamp": c.timestamp, "service": c.service, "kind": c.kind.value, "summary": c.summary,
            "version": c.version, "previous_version": c.previous_version, "author": c.author}


async def _write_jsonl(path: Path, items: AsyncIterator[Any], to_json: Callable[[Any], dict[str, Any]],
                       limit: int | None, written: list[int]) -> bool:
    """Write items one per line, counting in ``written[0]``; True if it stopped at ``limit``."""
    with open(path, "wb") as fh:
        async for item in items:
            if limit is not None and written[0] >= limit:
                return True
            fh.write(orjson.dumps(to_json(item), option=orjson.OPT_NON_STR_KEYS, default=str) + b"\n")
            written[0] += 1
    return False


async def record_bundle(incident: Incident, sources: Sources, out_dir: str | Path, *,
                        services: tuple[str, ...] | None = None, max_logs: int | None = 200_000,
                        max_spans: int | None = 200_000, overwrite: bool = False,
                        lookback: float = CONTEXT_LOOKBACK) -> RecordSummary:
    """Write a bundle for ``incident`` from ``sources`` into ``out_dir``; see the module docstring.

    Logs and traces cover baseline start to window end and ``DENSE_LOOKBACK_S`` before that;
    metrics and changes reach ``lookback`` seconds before the window too, as the investigation
    tools read them for context.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(f"{out}: exists and is not empty (use --force to replace it)")
        if not (out / "incident.yaml").is_file():
            raise InputError(f"{out}: not a bundle directory; refusing to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    start = incident.window.start_s
    if incident.baseline is not None:
        start = min(start, incident.baseline.start_s)
    end = incident.window.end_s
    summary = RecordSummary(path=str(out))
    doc = incident.model_dump(mode="json", exclude_none=True)
    (out / "incident.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    limits = {"logs": max_logs, "traces": max_spans}
    context_start = min(start, incident.window.start_s - lookback)
    for kind in ("metrics", "logs", "traces", "changes"):
        backend = sources.names.get(kind, kind)
        source = getattr(sources, kind)
        limit = limits.get(kind)
        if source is None:
            summary.gaps.append(Gap(source=kind, reason="no backend configured"))
            continue
        path = out / f"{kind}.jsonl"
        written = [0]
        truncated = False
        try:
            begin = context_start if kind in ("metrics", "changes") else start - DENSE_LOOKBACK_S
            stream = _query(kind, source, begin, end, services)
            truncated = await _write_jsonl(path, stream, _LINES[kind], limit, written)
        except Day2AIError as exc:
            summary.gaps.append(Gap(source=f"{kind} ({backend})", reason=str(exc)))
        summary.counts[kind] = written[0]
        if truncated:
            summary.truncated.append(f"{kind}: stopped at {limit} records")
    await _write_topology(sources, out, summary)
    summary.seconds = time.perf_counter() - started
    _write_manifest(out, incident, sources, summary, context_start, end)
    return summary


_LINES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "metrics": series_line, "logs": log_line, "traces": span_line, "changes": change_line}


def _query(kind: str, source: Any, start: float, end: float,
           services: tuple[str, ...] | None) -> AsyncIterator[Any]:
    """Everything a source holds for the services in [start, end]."""
    if kind == "metrics":
        return source.series(MetricQuery(start=start, end=end, services=services))  # type: ignore[no-any-return]
    if kind == "logs":
        return source.logs(LogQuery(start=start, end=end, services=services))  # type: ignore[no-any-return]
    if kind == "traces":
        return source.spans(SpanQuery(start=start, end=end, services=services))  # type: ignore[no-any-return]
    return source.changes(ChangeQuery(start=start, end=end, services=services))  # type: ignore[no-any-return]


async def _write_topology(sources: Sources, out: Path, summary: RecordSummary) -> None:
    if sources.topology is None:
        return
    try:
        topo = await sources.topology.topology()
    except Day2AIError as exc:
        summary.gaps.append(Gap(source="topology", reason=str(exc)))
        return
    if topo is not None:
        (out / "topology.yaml").write_text(
            yaml.safe_dump(topo.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
        summary.counts["topology"] = len(topo.services)


def _write_manifest(out: Path, incident: Incident, sources: Sources, summary: RecordSummary,
                    start: float, end: float) -> None:
    manifest = {
        "recorded_by": "day2ai record",
        "incident": incident.id,
        "range": {"start": iso(start), "end": iso(end)},
        "backends": dict(sources.names),
        "counts": summary.counts,
        "gaps": [g.model_dump() for g in summary.gaps],
        "truncated": summary.truncated,
    }
    (out / "recording.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")


def record_bundle_sync(incident: Incident, sources: Sources, out_dir: str | Path,
                       **kwargs: Any) -> RecordSummary:
    """Synchronous wrapper of :func:`record_bundle`."""
    return asyncio.run(record_bundle(incident, sources, out_dir, **kwargs))
