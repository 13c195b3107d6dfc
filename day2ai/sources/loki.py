"""Logs from Grafana Loki (``/loki/api/v1/query_range`` with LogQL).

The stream selector picks services by ``service_label`` (default ``service_name``, what Loki 3
derives from OpenTelemetry; ``app`` or ``job`` are common too); ``contains_text`` becomes a
``|=`` line filter. Pages are read forward in time: each next page starts at the last timestamp
seen, and entries at that boundary timestamp already returned are skipped; a page holding a
single timestamp is re-read as that one nanosecond with a larger limit so nothing is lost. The
level comes from the stream or structured-metadata labels (``level``, ``detected_level``,
``severity_text``) or, for JSON lines, from the line itself; the minimum level is applied
client-side.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from day2ai.sources.base import LogQuery, LogRecord, log_matches, normalize_level
from day2ai.sources.http import HttpClient, expect

LEVEL_KEYS = ("level", "detected_level", "severity_text", "severity", "lvl", "loglevel")
TRACE_KEYS = ("trace_id", "traceID", "traceId", "trace.id")
MESSAGE_KEYS = ("message", "msg", "body", "log")
QUERY_PATH = "/loki/api/v1/query_range"
MAX_BURST = 5000  # Loki's default max_entries_limit_per_query


def logql_string(text: str) -> str:
    """A LogQL double-quoted string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def build_logql(label: str, services: Iterable[str] | None, contains: str | None) -> str:
    if services is None:
        selector = f"{{{label}=~\".+\"}}"
    else:
        names = sorted(set(services))
        if len(names) == 1:
            selector = f"{{{label}={logql_string(names[0])}}}"
        else:
            alternation = "|".join(_regex_escape(n) for n in names)
            selector = f"{{{label}=~{logql_string(alternation)}}}"
    return selector + (f" |= {logql_string(contains)}" if contains else "")


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)


def parse_line(line: str) -> tuple[str, dict[str, Any]]:
    """Message and fields of a log line (JSON lines are unpacked; other text is the message)."""
    if line.startswith("{"):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line, {}
        if isinstance(obj, dict):
            message = next((str(obj[k]) for k in MESSAGE_KEYS if isinstance(obj.get(k), str)), line)
            return message, obj
    return line, {}


def to_record(ns: str, line: str, labels: dict[str, str], service_label: str,
              metadata: dict[str, Any] | None = None) -> LogRecord:
    message, fields = parse_line(line)
    merged: dict[str, Any] = {**fields, **labels, **(metadata or {})}
    level = normalize_level(next((merged[k] for k in LEVEL_KEYS if merged.get(k)), None))
    trace = next((str(merged[k]) for k in TRACE_KEYS if merged.get(k)), None)
    attributes = {k: v for k, v in {**labels, **(metadata or {})}.items()
                  if k not in (service_label, *LEVEL_KEYS, *TRACE_KEYS)}
    return LogRecord(timestamp=int(ns) / 1e9, service=labels.get(service_label, "unknown"),
                     message=message, level=level if level != "UNKNOWN" else None, trace_id=trace,
                     attributes=attributes)


class LokiSource:
    """LogsSource over Loki's HTTP API; also label discovery."""

    name = "loki"

    def __init__(self, client: HttpClient, *, service_label: str = "service_name", page_size: int = 1000,
                 default_range: float = 3600.0):
        self.client = client
        self.service_label = service_label
        self.page_size = page_size
        self.default_range = default_range

    async def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]:
        end_s = query.end if query.end is not None else time.time()
        start_s = query.start if query.start is not None else end_s - self.default_range
        start_ns, end_ns = int(start_s * 1e9), int(end_s * 1e9) + 1  # Loki's end is exclusive
        logql = build_logql(self.service_label, query.services, query.contains_text)
        seen: set[tuple[str, str, str]] = set()  # entries at the boundary timestamp already read
        returned = 0
        for _page in range(self.client.settings.max_pages):
            entries = await self._page(logql, start_ns, end_ns, self.page_size)
            full = len(entries) >= self.page_size
            last = int(entries[-1][0]) if entries else start_ns
            if full and int(entries[0][0]) == last == start_ns:
                # a whole page of one timestamp: read that nanosecond in one larger request
                entries = await self._page(logql, last, last + 1, MAX_BURST)
                last += 1
            for ns, line, _key, labels, meta in entries:
                if (ns, line, _key) in seen:
                    continue
                rec = to_record(ns, line, labels, self.service_label, meta)
                if log_matches(rec, query):
                    yield rec
                    returned += 1
                    if query.limit is not None and returned >= query.limit:
                        return
            if not full:
                return
            if last > start_ns:
                seen = set()
                start_ns = last
            seen |= {(e[0], e[1], e[2]) for e in entries if int(e[0]) == last}
        raise self.client.page_limit(f"{QUERY_PATH} {logql}")

    async def _page(self, logql: str, start_ns: int, end_ns: int,
                    limit: int) -> list[tuple[str, str, str, dict[str, str], dict[str, Any]]]:
        params = {"query": logql, "start": str(start_ns), "end": str(end_ns), "limit": str(limit),
                  "direction": "forward"}
        body = await self.client.get_json(QUERY_PATH, params)
        data = self._data(body, QUERY_PATH)
        expect(self.client, isinstance(data, dict) and data.get("resultType") == "streams", QUERY_PATH,
               "expected data.resultType 'streams'")
        entries: list[tuple[str, str, str, dict[str, str], dict[str, Any]]] = []
        for stream in data.get("result") or []:
            labels = {str(k): str(v) for k, v in (stream.get("stream") or {}).items()}
            key = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            for value in stream.get("values") or []:
                expect(self.client, isinstance(value, list) and len(value) >= 2, QUERY_PATH,
                       "stream values must be [ns, line] pairs")
                meta = value[2] if len(value) > 2 and isinstance(value[2], dict) else {}
                entries.append((str(value[0]), str(value[1]), key, labels, _flatten_meta(meta)))
        entries.sort(key=lambda e: (int(e[0]), e[2]))
        return entries

    def _data(self, body: Any, path: str) -> Any:
        expect(self.client, isinstance(body, dict), path, "expected a JSON object")
        if body.get("status") != "success":
            raise self.client.error(f"{path}: {body.get('error') or body.get('status')}")
        return body.get("data")

    async def labels(self) -> list[str]:
        body = await self.client.get_json("/loki/api/v1/labels")
        data = self._data(body, "/loki/api/v1/labels")
        return [str(x) for x in data or []]

    async def label_values(self, label: str) -> list[str]:
        path = f"/loki/api/v1/label/{label}/values"
        data = self._data(await self.client.get_json(path), path)
        return [str(x) for x in data or []]

    async def services(self) -> list[str]:
        return await self.label_values(self.service_label)


def _flatten_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Loki 3 ``categorize-labels`` metadata: ``{"structuredMetadata": {...}, "parsed": {...}}``."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key in ("structuredMetadata", "parsed") and isinstance(value, dict):
            out.update({str(k): v for k, v in value.items()})
        else:
            out[str(key)] = value
    return out
