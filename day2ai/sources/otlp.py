"""OpenTelemetry OTLP/JSON: parsing (shared with Tempo) and files as a traces and logs source.

Files may hold one ``ExportTraceServiceRequest``/``ExportLogsServiceRequest`` JSON object, or one
per line (what the OpenTelemetry Collector ``file`` exporter writes), optionally gzip-compressed.
IDs may be hex (the OTLP/JSON spec) or base64 (protobuf JSON mapping, older Tempo versions).
"""

from __future__ import annotations

import base64
import binascii
import gzip
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from day2ai.errors import SourceError
from day2ai.sources.base import (
    LogQuery,
    LogRecord,
    Span,
    SpanQuery,
    log_matches,
    normalize_level,
    span_matches,
)

_HEX = set("0123456789abcdefABCDEF")
_STATUS = {"STATUS_CODE_ERROR": "error", "2": "error", "STATUS_CODE_OK": "ok", "1": "ok"}


def otlp_id(value: Any, size: int) -> str | None:
    """Lower-case hex of an OTLP id (``size`` bytes) given as hex or base64; None if empty."""
    if not value or not isinstance(value, str):
        return None
    if len(value) == 2 * size and set(value) <= _HEX:
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.lower()
    return raw.hex() if len(raw) == size else value.lower()


def any_value(v: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` object."""
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return v["intValue"]
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in v:
        return attributes((v["kvlistValue"] or {}).get("values"))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(kv.get("key")): any_value(kv.get("value")) for kv in items if isinstance(kv, dict)}


def _nanos(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _resource_groups(doc: dict[str, Any], key: str) -> Iterator[tuple[dict[str, Any], list[Any]]]:
    """(resource attributes, scope groups) for resourceSpans/resourceLogs (or Tempo's batches)."""
    groups = doc.get(key)
    if groups is None and key == "resourceSpans":
        groups = doc.get("batches")
        if groups is None and isinstance(doc.get("trace"), dict):
            groups = doc["trace"].get(key) or doc["trace"].get("batches")
    for group in groups or []:
        if not isinstance(group, dict):
            continue
        res = attributes((group.get("resource") or {}).get("attributes"))
        scope_key = "scopeSpans" if key == "resourceSpans" else "scopeLogs"
        legacy = "instrumentationLibrarySpans" if key == "resourceSpans" else "instrumentationLibraryLogs"
        yield res, list(group.get(scope_key) or group.get(legacy) or [])


def parse_otlp_spans(doc: dict[str, Any]) -> Iterator[Span]:
    """Spans of one OTLP/JSON traces document."""
    for res, scopes in _resource_groups(doc, "resourceSpans"):
        service = str(res.get("service.name") or "unknown")
        for scope in scopes:
            for sp in (scope or {}).get("spans") or []:
                start, end = _nanos(sp.get("startTimeUnixNano")), _nanos(sp.get("endTimeUnixNano"))
                code = str((sp.get("status") or {}).get("code", ""))
                attrs = attributes(sp.get("attributes"))
                if sp.get("kind"):
                    attrs["span.kind"] = sp["kind"]
                yield Span(trace_id=otlp_id(sp.get("traceId"), 16) or "",
                           span_id=otlp_id(sp.get("spanId"), 8) or "",
                           parent_span_id=otlp_id(sp.get("parentSpanId"), 8), service=service,
                           name=str(sp.get("name") or ""), start=start / 1e9,
                           duration_ms=max(0, end - start) / 1e6,
                           status=_STATUS.get(code) if code else None, attributes=attrs)


def parse_otlp_logs(doc: dict[str, Any]) -> Iterator[LogRecord]:
    """Log records of one OTLP/JSON logs document."""
    for res, scopes in _resource_groups(doc, "resourceLogs"):
        service = str(res.get("service.name") or "unknown")
        for scope in scopes:
            for lr in (scope or {}).get("logRecords") or []:
                ns = _nanos(lr.get("timeUnixNano")) or _nanos(lr.get("observedTimeUnixNano"))
                body = any_value(lr.get("body"))
                yield LogRecord(timestamp=ns / 1e9, service=service,
                                message=body if isinstance(body, str) else orjson.dumps(body).decode(),
                                level=normalize_level(lr.get("severityText")),
                                trace_id=otlp_id(lr.get("traceId"), 16),
                                attributes=attributes(lr.get("attributes")))


class OtlpFileSource:
    """TracesSource and LogsSource over OTLP/JSON files (``.json``, ``.jsonl``, ``.gz``)."""

    name = "otlp"

    def __init__(self, paths: Sequence[str | Path]):
        self.paths = [Path(p) for p in paths]

    def _documents(self) -> Iterator[dict[str, Any]]:
        for path in self.paths:
            files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
            for file in files:
                yield from self._read(file)

    def _read(self, file: Path) -> Iterator[dict[str, Any]]:
        try:
            raw = gzip.decompress(file.read_bytes()) if file.suffix == ".gz" else file.read_bytes()
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise SourceError(self.name, f"{file.name}: cannot read: {exc}") from None
        try:
            docs = [orjson.loads(raw)]
        except orjson.JSONDecodeError:
            docs = []
            for lineno, line in enumerate(raw.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    docs.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise SourceError(self.name, f"{file.name}:{lineno}: invalid JSON: {exc.msg}") from None
        yield from (d for d in docs if isinstance(d, dict))

    async def spans(self, query: SpanQuery) -> AsyncIterator[Span]:
        n = 0
        for doc in self._documents():
            for span in parse_otlp_spans(doc):
                if span_matches(span, query):
                    yield span
                    n += 1
                    if query.limit is not None and n >= query.limit:
                        return

    async def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]:
        n = 0
        for doc in self._documents():
            for rec in parse_otlp_logs(doc):
                if log_matches(rec, query):
                    yield rec
                    n += 1
                    if query.limit is not None and n >= query.limit:
                        return
