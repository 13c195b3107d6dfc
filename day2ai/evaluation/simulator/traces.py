"""Spans: sampled requests walked through the call graph with the world's state at that moment.

Instrumented services emit server spans; calls to databases, caches, queues and external APIs
appear only as client spans of the caller (those have no telemetry of their own). Network delay
shows as client time not covered by the callee's server span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from day2ai.evaluation.simulator.spec import BundleShape
from day2ai.evaluation.simulator.world import TICK, CompState, World

_SHORT = {
    "refused": "connection refused",
    "tls": "x509: certificate has expired or is not yet valid",
    "reset": "connection reset by peer",
    "timeout": "context deadline exceeded",
}


@dataclass
class _Ctx:
    world: World
    shape: BundleShape
    k: int
    trace_id: str
    spans: list[dict[str, Any]] = field(default_factory=list)


def _sid(world: World) -> str:
    return f"{world.r.getrandbits(64):016x}"


def _lognormal(world: World, p50: float, p99: float) -> float:
    sigma = max(math.log(max(p99, 1e-6) / max(p50, 1e-6)) / 2.326, 0.05)
    return max(p50, 1e-5) * math.exp(world.r.gauss(0, sigma))


def _span(
    ctx: _Ctx,
    service: str,
    name: str,
    start: float,
    dur: float,
    parent: str | None,
    error: bool,
    attrs: dict[str, Any],
) -> str:
    sid = _sid(ctx.world)
    rec: dict[str, Any] = {
        "trace_id": ctx.trace_id,
        "span_id": sid,
        "parent_span_id": parent,
        "service": service,
        "name": name,
        "start": round(start, 6),
        "duration_ms": round(dur * 1000, 3),
    }
    if ctx.shape.span_status:
        rec["status"] = "error" if error else "ok"
    rec["attributes"] = attrs
    ctx.spans.append(rec)
    return sid


def _pod(world: World, s: CompState, k: int) -> str:
    up = [p for p in s.pods if p.start <= k < p.end and not p.down[k]] or s.pods
    return up[world.r.randrange(len(up))].name


def _server(
    ctx: _Ctx, name: str, op: str, start: float, parent: str | None, depth: int
) -> tuple[float, bool]:
    """Walk one request into service ``name``; returns (duration s, failed)."""
    w, k = ctx.world, ctx.k
    s = w.st(name)
    own = _lognormal(w, float(s.own_p50[k]), float(s.own_p50[k] * s.tail))
    own_fail = sum(float(v[k]) for key, v in s.own_err.items())
    overload = max(0.0, min(0.72, (float(s.util[k]) - 1.0) / max(float(s.util[k]), 1e-9) * 0.8))
    failed = w.r.random() < own_fail + overload
    sid = f"{w.r.getrandbits(64):016x}"
    cursor = start + own * 0.3
    if not failed and depth < 12 and len(ctx.spans) < 400:
        for e in w.topo.out_edges(name):
            calls = _n_calls(w, e.calls)
            for _ in range(calls):
                dur, err = _call(ctx, s, e.dst, e.timeout, e.operation, e.tls, cursor, sid, depth)
                cursor += dur + w.r.uniform(0.0001, 0.002)
                if err and w.r.random() < e.prop * s.call_amp**0.2:
                    failed = True
                    break
            if failed:
                break
    dur = (cursor - start) + own * 0.7
    status = 500 if failed else 200
    attrs: dict[str, Any] = {"span.kind": "server", "k8s.pod.name": _pod(w, s, k)}
    method, _, route = op.partition(" ")
    if route:
        attrs.update({"http.method": method, "http.route": route, "http.status_code": status})
    else:
        attrs.update(
            {
                "rpc.system": "grpc",
                "rpc.method": op.rsplit("/", 1)[-1],
                "rpc.grpc.status_code": 13 if failed else 0,
            }
        )
    rec: dict[str, Any] = {
        "trace_id": ctx.trace_id,
        "span_id": sid,
        "parent_span_id": parent,
        "service": name,
        "name": op,
        "start": round(start, 6),
        "duration_ms": round(dur * 1000, 3),
    }
    if ctx.shape.span_status:
        rec["status"] = "error" if failed else "ok"
    rec["attributes"] = attrs
    ctx.spans.append(rec)
    return dur, failed


def _n_calls(w: World, mean: float) -> int:
    if mean < 1:
        return int(w.r.random() < mean)
    return min(3, max(1, int(mean + w.r.uniform(-0.5, 0.5))))


def _call(
    ctx: _Ctx,
    caller: CompState,
    dst: str,
    timeout: float,
    op: str,
    tls: bool,
    start: float,
    parent: str,
    depth: int,
) -> tuple[float, bool]:
    w, k = ctx.world, ctx.k
    c = w.st(dst)
    fails = caller.call_fail.get(dst, {})
    delay = float(c.net_delay[k] + caller.net_delay[k])
    kind = None
    for name in ("refused", "tls", "reset"):
        f = fails.get(name)
        if f is not None and w.r.random() < float(f[k]):
            kind = name
            break
    instrumented = c.comp.kind == "service" and c.comp.telemetry
    client_attrs = _client_attrs(c, caller, op, tls)
    if kind is not None:
        dur = {
            "refused": w.r.uniform(0.0005, 0.004),
            "tls": w.r.uniform(0.003, 0.02),
            "reset": w.r.uniform(0.05, 1.0),
        }[kind] + delay
        client_attrs["error.message"] = _SHORT[kind]
        if instrumented and not ctx.shape.client_spans:
            client_attrs["span.kind"] = "client"
        _span(ctx, caller.comp.name, _client_name(c, op), start, dur, parent, True, client_attrs)
        return dur, True
    csid = _sid(w) if (not instrumented or ctx.shape.client_spans) else parent
    tail = float(c.net_tail[k] + caller.net_tail[k]) if w.r.random() < 0.05 else 0.0
    if instrumented:
        inner, err = _server(
            ctx, dst, op or (c.comp.operations or ("GET /",))[0], start + delay / 2 + tail, csid, depth + 1
        )
    elif c.comp.kind == "queue":
        inner, err = w.r.uniform(0.0005, 0.004), False
        _consume(ctx, c, start, csid, depth)
    else:
        inner = _lognormal(w, float(c.p50[k]), float(c.p99[k]))
        err = w.r.random() < float(c.err[k])
    dur = inner + delay + tail
    if dur > timeout:
        dur, err = timeout, True
        client_attrs["error.message"] = _SHORT["timeout"]
    if csid != parent:
        if err and "http.status_code" in client_attrs:
            client_attrs["http.status_code"] = 503 if c.comp.kind == "external" else 500
        ctx.spans.append(
            _client_record(
                ctx, caller.comp.name, _client_name(c, op), start, dur, parent, err, client_attrs, csid
            )
        )
    return dur, err


def _consume(ctx: _Ctx, queue: CompState, start: float, parent: str, depth: int) -> None:
    w = ctx.world
    for c in w.topo.components:
        if c.consumes == queue.comp.name and c.telemetry and w.r.random() < 0.8:
            op = f"process {queue.comp.name}"
            _server(ctx, c.name, op, start + w.r.uniform(0.01, 2.0), parent, depth + 1)


def _client_record(
    ctx: _Ctx,
    service: str,
    name: str,
    start: float,
    dur: float,
    parent: str,
    err: bool,
    attrs: dict[str, Any],
    sid: str,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "trace_id": ctx.trace_id,
        "span_id": sid,
        "parent_span_id": parent,
        "service": service,
        "name": name,
        "start": round(start, 6),
        "duration_ms": round(dur * 1000, 3),
    }
    if ctx.shape.span_status:
        rec["status"] = "error" if err else "ok"
    rec["attributes"] = attrs
    return rec


def _client_name(c: CompState, op: str) -> str:
    kind = c.comp.kind
    if kind == "database":
        return f"SELECT {c.comp.name.replace('-', '_')}"
    if kind == "cache":
        return f"{c.comp.engine} GET"
    if kind == "queue":
        return f"{c.comp.name} publish"
    if kind == "external":
        return f"POST {c.comp.name}"
    return op or "GET /"


def _client_attrs(c: CompState, caller: CompState, op: str, tls: bool) -> dict[str, Any]:
    comp = c.comp
    attrs: dict[str, Any] = {
        "span.kind": "producer" if comp.kind == "queue" else "client",
        "net.peer.name": comp.name,
        "net.peer.port": comp.port,
    }
    if comp.kind in ("database", "cache"):
        attrs["db.system"] = comp.engine
        attrs["db.name"] = caller.comp.name.replace("-", "_")
    elif comp.kind == "queue":
        attrs["messaging.system"] = comp.engine
        attrs["messaging.destination.name"] = comp.name
    else:
        method, _, route = (op or "GET /").partition(" ")
        if route:
            attrs.update(
                {
                    "http.method": method,
                    "http.url": f"{'https' if tls else 'http'}://{comp.name}{route}",
                    "http.status_code": 200,
                }
            )
        attrs["peer.service"] = comp.name
    return attrs


def span_records(world: World, shape: BundleShape, target: int) -> list[dict[str, Any]]:
    entries = [world.st(n) for n in world.topo.entries()]
    if not entries or target <= 0:
        return []
    weights = np.vstack([e.served for e in entries])
    total = weights.sum(axis=0)
    p_tick = total / total.sum()
    out: list[dict[str, Any]] = []
    while len(out) < target:
        for k in world.rng.choice(world.n, size=64, p=p_tick).tolist():
            col = weights[:, k] / max(weights[:, k].sum(), 1e-12)
            entry = entries[int(world.rng.choice(len(entries), p=col))]
            ops = entry.comp.operations or ("GET /",)
            ctx = _Ctx(world, shape, k, f"{world.r.getrandbits(128):032x}")
            _server(
                ctx,
                entry.comp.name,
                ops[world.r.randrange(len(ops))],
                float(world.t[k]) + world.r.uniform(0, TICK),
                None,
                0,
            )
            out.extend(ctx.spans)
            if len(out) >= target:
                break
    out.sort(key=lambda x: float(x["start"]))
    return out
