"""Traces from the Jaeger query service HTTP API (``/api/services``, ``/api/traces``).

Jaeger returns whole traces for a service and a time range (``start``/``end`` in microseconds,
``limit`` = number of traces, newest first) and has no paging. So that a baseline hour is not
crowded out by the newest traces, each service's range is split into ``windows`` equal slices
queried separately (concurrently), each for up to ``traces_per_service / windows`` traces: a
sample spread over the whole range, not every trace. Spans of several searches are de-duplicated
by (trace id, span id). A span is an error when tagged ``error=true`` or ``otel.status_code=ERROR``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import Any

from day2ai.sources.base import Span, SpanQuery, span_matches
from day2ai.sources.http import HttpClient, expect


def _tags(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(t.get("key")): t.get("value") for t in items if isinstance(t, dict)}


def _status(tags: dict[str, Any]) -> str | None:
    if tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).upper() == "ERROR":
        return "error"
    if str(tags.get("otel.status_code", "")).upper() == "OK":
        return "ok"
    code = tags.get("http.status_code", tags.get("http.response.status_code"))
    if code is not None:
        try:
            return "error" if int(code) >= 500 else "ok"
        except (TypeError, ValueError):
            return None
    return None


def parse_jaeger_trace(trace: dict[str, Any]) -> list[Span]:
    """Spans of one trace of Jaeger's ``/api/traces`` answer."""
    processes = trace.get("processes") or {}
    spans: list[Span] = []
    for sp in trace.get("spans") or []:
        tags = _tags(sp.get("tags"))
        parent = next((r.get("spanID") for r in sp.get("references") or []
                       if isinstance(r, dict) and r.get("refType") == "CHILD_OF"), None)
        proc = processes.get(sp.get("processID")) or sp.get("process") or {}
        spans.append(Span(
            trace_id=str(sp.get("traceID") or trace.get("traceID") or ""),
            span_id=str(sp.get("spanID") or ""),
            parent_span_id=parent, service=str(proc.get("serviceName") or "unknown"),
            name=str(sp.get("operationName") or ""), start=float(sp.get("startTime") or 0) / 1e6,
            duration_ms=float(sp.get("duration") or 0) / 1e3,
            status=_status(tags), attributes=tags))
    return spans


class JaegerSource:
    """TracesSource over the Jaeger query API."""

    name = "jaeger"

    def __init__(
        self,
        client: HttpClient,
        *,
        traces_per_service: int = 600,
        windows: int = 12,
        default_range: float = 3600.0,
    ):
        self.client = client
        self.traces_per_service = traces_per_service
        self.windows = max(1, windows)
        self.default_range = default_range

    async def _data(self, path: str, params: dict[str, Any] | None = None) -> Any:
        body = await self.client.get_json(path, params)
        expect(self.client, isinstance(body, dict), path, "expected a JSON object")
        if body.get("errors"):
            first = body["errors"][0]
            msg = first.get("msg") if isinstance(first, dict) else first
            raise self.client.error(f"{path}: {msg}")
        return body.get("data")

    async def services(self) -> list[str]:
        data = await self._data("/api/services")
        return sorted(str(s) for s in data or [] if s != "jaeger-query")

    async def operations(self, service: str) -> list[str]:
        data = await self._data(f"/api/services/{service}/operations")
        return sorted(str(o.get("name") if isinstance(o, dict) else o) for o in data or [])

    async def traces(self, service: str, start: float, end: float, *, limit: int,
                     errors_only: bool = False, min_duration_ms: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"service": service, "start": int(start * 1e6), "end": int(end * 1e6) + 1,
                                  "limit": limit}
        if errors_only:
            params["tags"] = '{"error":"true"}'
        if min_duration_ms is not None:
            params["minDuration"] = f"{int(min_duration_ms * 1000)}us"
        data = await self._data("/api/traces", params)
        expect(self.client, isinstance(data, list), "/api/traces", "data is not a list")
        return [t for t in data if isinstance(t, dict)]

    async def _sampled(self, service: str, start: float, end: float, query: SpanQuery) -> list[dict[str, Any]]:
        """The service's traces from ``windows`` equal slices of the range, oldest slice first."""
        step = (end - start) / self.windows
        per_window = max(1, math.ceil(self.traces_per_service / self.windows))
        slices = [(start + i * step, start + (i + 1) * step) for i in range(self.windows)]
        found = await asyncio.gather(
            *(
                self.traces(service, a, b, limit=per_window, errors_only=query.errors_only,
                            min_duration_ms=query.min_duration_ms)
                for a, b in slices
            )
        )
        return [t for batch in found for t in batch]

    async def spans(self, query: SpanQuery) -> AsyncIterator[Span]:
        end = query.end if query.end is not None else time.time()
        start = query.start if query.start is not None else end - self.default_range
        services = list(query.services) if query.services is not None else await self.services()
        seen: set[tuple[str, str]] = set()
        n = 0
        for service in services:
            for trace in await self._sampled(service, start, end, query):
                for span in parse_jaeger_trace(trace):
                    key = (span.trace_id, span.span_id)
                    if key in seen or not span_matches(span, query):
                        continue
                    seen.add(key)
                    yield span
                    n += 1
                    if query.limit is not None and n >= query.limit:
                        return
