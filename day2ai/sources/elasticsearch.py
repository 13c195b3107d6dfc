"""Logs from Elasticsearch or OpenSearch (``POST /<index>/_search``).

Fields are mapped per site (:class:`EsFields`; the defaults follow Elastic Common Schema:
``@timestamp``, ``service.name``, ``log.level``, ``message``, ``trace.id``). Results are sorted by
timestamp (plus an optional unique tiebreaker field) and paged with ``search_after``, which
needs no server-side scroll state. The level filter asks for the accepted level words in the
common spellings; the level is normalized again client-side.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from day2ai.sources.base import LEVEL_RANK, LEVELS, LogQuery, LogRecord, log_matches, normalize_level
from day2ai.sources.http import HttpClient, expect
from day2ai.timeutil import parse_timestamp

LEVEL_SPELLINGS = {"WARN": ("warn", "warning"), "FATAL": ("fatal", "critical", "crit", "panic"),
                   "ERROR": ("error", "err")}


class EsFields(BaseModel):
    """Where the log fields live in a document (dotted paths)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timestamp: str = "@timestamp"
    service: str = "service.name"
    level: str = "log.level"
    message: str = "message"
    trace_id: str = "trace.id"
    tiebreaker: str | None = None  # a unique, sortable field (e.g. "event.id") for exact paging


def get_path(doc: dict[str, Any], path: str) -> Any:
    """A field by dotted path, whether the document nests objects or uses dotted keys."""
    if path in doc:
        return doc[path]
    head, _, rest = path.partition(".")
    if rest and isinstance(doc.get(head), dict):
        return get_path(doc[head], rest)
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        key = ".".join(parts[:i])
        if isinstance(doc.get(key), dict):
            return get_path(doc[key], ".".join(parts[i:]))
    return None


def level_terms(min_level: str) -> list[str]:
    wanted = [lv for lv in LEVELS if LEVEL_RANK[lv] >= LEVEL_RANK.get(min_level.upper(), 0)]
    out: list[str] = []
    for lv in wanted:
        for word in (lv.lower(), *LEVEL_SPELLINGS.get(lv, ())):
            out.extend([word, word.upper(), word.capitalize()])
    return sorted(set(out))


class ElasticsearchSource:
    """LogsSource over ``_search`` with ``search_after`` pagination."""

    name = "elasticsearch"

    def __init__(self, client: HttpClient, *, index: str = "logs-*", fields: EsFields | None = None,
                 page_size: int = 1000, default_range: float = 3600.0):
        self.client = client
        self.index = index
        self.fields = fields or EsFields()
        self.page_size = page_size
        self.default_range = default_range

    def build_query(self, query: LogQuery) -> dict[str, Any]:
        f = self.fields
        end = query.end if query.end is not None else time.time()
        start = query.start if query.start is not None else end - self.default_range
        filters: list[dict[str, Any]] = [{"range": {f.timestamp: {
            "gte": int(start * 1000), "lte": int(end * 1000) + 1, "format": "epoch_millis"}}}]
        if query.services is not None:
            filters.append({"terms": {f.service: sorted(set(query.services))}})
        if query.min_level is not None:
            filters.append({"terms": {f.level: level_terms(query.min_level)}})
        if query.contains_text:
            filters.append({"match_phrase": {f.message: query.contains_text}})
        sort: list[dict[str, Any]] = [{f.timestamp: {"order": "asc"}}]
        if f.tiebreaker:
            sort.append({f.tiebreaker: {"order": "asc"}})
        return {"size": self.page_size, "query": {"bool": {"filter": filters}}, "sort": sort,
                "track_total_hits": False}

    async def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]:
        body = self.build_query(query)
        path = f"/{self.index}/_search"
        returned = 0
        last_sort: list[Any] | None = None
        for _page in range(self.client.settings.max_pages):
            if last_sort is not None:
                body["search_after"] = last_sort
            hits = await self._hits(path, body)
            for hit in hits:
                rec = self._record(hit.get("_source") or {}, hit)
                if rec is not None and log_matches(rec, query):
                    yield rec
                    returned += 1
                    if query.limit is not None and returned >= query.limit:
                        return
            if len(hits) < self.page_size:
                return
            sort = hits[-1].get("sort")
            expect(self.client, isinstance(sort, list) and sort != last_sort, path,
                   "hits carry no new 'sort' values for search_after")
            last_sort = sort
        raise self.client.page_limit(path)

    async def _hits(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        resp = await self.client.post_json(path, body)
        expect(self.client, isinstance(resp, dict), path, "expected a JSON object")
        if "error" in resp:
            err = resp["error"]
            reason = err.get("reason") or err.get("type") if isinstance(err, dict) else err
            raise self.client.error(f"{path}: {reason}")
        hits = (resp.get("hits") or {}).get("hits")
        if not isinstance(hits, list):
            raise self.client.error(f"{path}: unexpected response: hits.hits is not a list")
        return [h for h in hits if isinstance(h, dict)]

    def _record(self, doc: dict[str, Any], hit: dict[str, Any]) -> LogRecord | None:
        f = self.fields
        raw_ts = get_path(doc, f.timestamp)
        try:
            ts = parse_timestamp(raw_ts)
        except ValueError:
            return None
        if isinstance(raw_ts, int | float) and raw_ts > 1e11:  # epoch milliseconds
            ts = raw_ts / 1000.0
        message = get_path(doc, f.message)
        service = get_path(doc, f.service)
        trace = get_path(doc, f.trace_id)
        used = {f.timestamp, f.service, f.level, f.message, f.trace_id}
        attributes = {k: v for k, v in doc.items() if k not in used and not isinstance(v, dict | list)}
        attributes["_index"] = hit.get("_index")
        return LogRecord(timestamp=ts, service=str(service) if service is not None else "unknown",
                         message="" if message is None else str(message),
                         level=normalize_level(get_path(doc, f.level)),
                         trace_id=str(trace) if trace is not None else None, attributes=attributes)
