"""Traces from Grafana Tempo: TraceQL search (``/api/search``) then trace by id (``/api/traces/<id>``).

The search finds trace ids for the services and the time range (``start``/``end`` in seconds);
each trace is then fetched whole as OTLP/JSON and parsed by :mod:`day2ai.sources.otlp`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from day2ai.sources.base import Span, SpanQuery, span_matches
from day2ai.sources.http import HttpClient, expect
from day2ai.sources.otlp import parse_otlp_spans


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)


def build_traceql(services: Iterable[str] | None, errors_only: bool, min_duration_ms: float | None) -> str:
    conds: list[str] = []
    if services is not None:
        names = sorted(set(services))
        if len(names) == 1:
            conds.append(f"resource.service.name = {_quote(names[0])}")
        else:
            alternation = "|".join(_regex_escape(n) for n in names)
            conds.append(f"resource.service.name =~ {_quote(alternation)}")
    if errors_only:
        conds.append("status = error")
    if min_duration_ms is not None:
        conds.append(f"duration >= {int(min_duration_ms)}ms")
    return "{ " + " && ".join(conds) + " }" if conds else "{ }"


class TempoSource:
    """TracesSource over Tempo's HTTP API."""

    name = "tempo"

    def __init__(self, client: HttpClient, *, search_limit: int = 200, default_range: float = 3600.0):
        self.client = client
        self.search_limit = search_limit
        self.default_range = default_range

    async def search(self, traceql: str, start: float, end: float, limit: int) -> list[dict[str, Any]]:
        params = {"q": traceql, "start": int(start), "end": int(end) + 1, "limit": limit}
        body = await self.client.get_json("/api/search", params)
        expect(self.client, isinstance(body, dict) and isinstance(body.get("traces", []), list),
               "/api/search", "expected an object with a 'traces' list")
        return [t for t in body.get("traces") or [] if isinstance(t, dict)]

    async def trace(self, trace_id: str) -> list[Span]:
        path = f"/api/traces/{trace_id}"
        body = await self.client.get_json(path)
        expect(self.client, isinstance(body, dict), path, "expected an OTLP/JSON object")
        return list(parse_otlp_spans(body))

    async def spans(self, query: SpanQuery) -> AsyncIterator[Span]:
        end = query.end if query.end is not None else time.time()
        start = query.start if query.start is not None else end - self.default_range
        traceql = build_traceql(query.services, query.errors_only, query.min_duration_ms)
        found = await self.search(traceql, start, end, self.search_limit)
        n = 0
        seen: set[str] = set()
        for item in found:
            trace_id = str(item.get("traceID") or "")
            if not trace_id or trace_id in seen:
                continue
            seen.add(trace_id)
            for span in await self.trace(trace_id):
                if span_matches(span, query):
                    yield span
                    n += 1
                    if query.limit is not None and n >= query.limit:
                        return
