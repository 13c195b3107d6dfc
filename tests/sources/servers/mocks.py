"""``httpx.MockTransport`` servers for backends that cannot run here, built from their documented
response formats: Loki ``query_range`` (streams), Jaeger ``/api/traces``, the Kubernetes list API.

Each mock implements the query semantics the client relies on (time ranges, limits, direction,
pagination tokens), so that paging and filtering in the day2ai backends are really exercised.
Every mock also checks the credentials it was given and answers 401 otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(data).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


def authed(handler: Handler, token: str | None) -> Handler:
    def wrapped(request: httpx.Request) -> httpx.Response:
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return _json({"message": "unauthorized"}, 401)
        return handler(request)

    return wrapped


class Router:
    """Dispatch by URL path prefix (``host`` optional), counting requests per route."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str | None, Handler]] = []
        self.calls: dict[str, int] = {}

    def add(self, prefix: str, handler: Handler, host: str | None = None) -> Router:
        self.routes.append((prefix, host, handler))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        for prefix, host, handler in self.routes:
            if request.url.path.startswith(prefix) and (host is None or request.url.host == host):
                self.calls[prefix] = self.calls.get(prefix, 0) + 1
                return handler(request)
        return _json({"error": f"no route for {request.url.path}"}, 404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


# ------------------------------------------------------------------ Loki

_SELECTOR = re.compile(r'^\{(\w+)(=~|=)"((?:[^"\\]|\\.)*)"\}(?:\s*\|=\s*"((?:[^"\\]|\\.)*)")?$')


def loki(logs: list[dict[str, Any]], label: str = "service_name") -> Handler:
    """Loki over records ``{"ts", "service", "level", "line"}``; streams keyed by service + level."""

    def handler(request: httpx.Request) -> httpx.Response:
        p = request.url.params
        if request.url.path.endswith("/labels"):
            return _json({"status": "success", "data": [label, "level"]})
        if "/label/" in request.url.path:
            name = request.url.path.split("/label/")[1].split("/")[0]
            values = sorted({r["service"] if name == label else r["level"] for r in logs})
            return _json({"status": "success", "data": values})
        m = _SELECTOR.match(p["query"])
        if not m or m.group(1) != label:
            return _json({"status": "error", "error": f"parse error: {p['query']}"}, 400)
        op, value, needle = m.group(2), m.group(3).replace('\\"', '"'), m.group(4)
        rx = re.compile(value.replace("\\\\", "\\")) if op == "=~" else None
        start, end, limit = int(p["start"]), int(p["end"]), int(p["limit"])
        forward = p.get("direction") == "forward"
        matched = [
            r
            for r in logs
            if start <= int(r["ts"] * 1e9) < end
            and (r["service"] == value if rx is None else rx.fullmatch(r["service"]))
            and (needle is None or needle in r["line"])
        ]
        matched.sort(key=lambda r: r["ts"], reverse=not forward)
        matched = matched[:limit]
        streams: dict[tuple[str, str], list[list[str]]] = {}
        for r in matched:
            streams.setdefault((r["service"], r["level"]), []).append([str(int(r["ts"] * 1e9)), r["line"]])
        result = [
            {"stream": {label: svc, "level": lvl, "namespace": "shop"}, "values": vals}
            for (svc, lvl), vals in streams.items()
        ]
        return _json(
            {
                "status": "success",
                "data": {
                    "resultType": "streams",
                    "result": result,
                    "stats": {"summary": {"totalEntriesReturned": len(matched)}},
                },
            }
        )

    return handler


# ------------------------------------------------------------------ Jaeger


def jaeger(traces: list[dict[str, Any]]) -> Handler:
    def services_of(trace: dict[str, Any]) -> set[str]:
        return {p["serviceName"] for p in trace["processes"].values()}

    def handler(request: httpx.Request) -> httpx.Response:
        path, p = request.url.path, request.url.params
        if path == "/api/services":
            names = sorted(set().union(*(services_of(t) for t in traces)))
            return _json({"data": names, "total": len(names), "limit": 0, "offset": 0, "errors": None})
        if path.startswith("/api/services/"):
            svc = path.split("/")[3]
            ops = sorted(
                {
                    s["operationName"]
                    for t in traces
                    for s in t["spans"]
                    if t["processes"][s["processID"]]["serviceName"] == svc
                }
            )
            return _json({"data": ops, "total": len(ops), "limit": 0, "offset": 0, "errors": None})
        if path == "/api/traces":
            svc, start, end = p["service"], int(p["start"]), int(p["end"])
            limit = int(p.get("limit", 20))
            want_error = "tags" in p and json.loads(p["tags"]).get("error") == "true"
            found = []
            for t in traces:
                spans = [
                    s
                    for s in t["spans"]
                    if t["processes"][s["processID"]]["serviceName"] == svc and start <= s["startTime"] <= end
                ]
                if not spans:
                    continue
                if want_error and not any(
                    tag["key"] == "error" and tag["value"] is True for s in spans for tag in s["tags"]
                ):
                    continue
                found.append(t)
            found.sort(key=lambda t: -min(s["startTime"] for s in t["spans"]))  # newest first
            data = found[:limit]
            return _json({"data": data, "total": len(data), "limit": 0, "offset": 0, "errors": None})
        return _json({"data": None, "errors": [{"code": 404, "msg": "page not found"}]}, 404)

    return handler


# ------------------------------------------------------------------ Kubernetes


def kubernetes(replicasets: list[dict[str, Any]], events: list[dict[str, Any]] | None = None) -> Handler:
    """List endpoints with ``limit``/``continue`` (the token is the next offset)."""

    def page(kind: str, items: list[dict[str, Any]], request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", 500))
        offset = int(request.url.params.get("continue") or 0)
        chunk = items[offset : offset + limit]
        meta: dict[str, Any] = {"resourceVersion": "12345"}
        if offset + limit < len(items):
            meta["continue"] = str(offset + limit)
            meta["remainingItemCount"] = len(items) - offset - limit
        return _json({"kind": kind, "apiVersion": "v1", "metadata": meta, "items": chunk})

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/replicasets"):
            return page("ReplicaSetList", replicasets, request)
        if path.endswith("/events"):
            return page("EventList", events or [], request)
        return _json({"kind": "Status", "status": "Failure", "message": "not found", "code": 404}, 404)

    return handler
