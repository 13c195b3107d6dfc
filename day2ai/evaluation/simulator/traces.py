"""Spans: sampled requests walked through the call graph with the world's state at that moment.

Instrumented services emit server spans; calls to databases, caches, queues and external APIs
appear only as client spans of the caller (those have no telemetry of their own). Network delay
shows as client time not covered by the callee's server span.

Traces are generated tick by tick in time order and written as time-sorted runs to temporary
files (a small heap holds the spans of the traces still open), so memory does not grow with the
bundle. A pilot estimates the spans per trace; the runs overshoot the target slightly and whole
traces are then dropped at random so the count lands on the target. Every served request is
remembered as a :data:`SpanRef` so that log lines can carry the trace id of the request they
were written for.
"""

from __future__ import annotations

import heapq
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from day2ai.evaluation.simulator.spec import BundleShape
from day2ai.evaluation.simulator.world import TICK, CompState, World

_SHORT = {
    "refused": "connection refused",
    "tls": "x509: certificate has expired or is not yet valid",
    "reset": "connection reset by peer",
    "timeout": "context deadline exceeded",
}


#: a served request as logs see it: (trace seq, start, end, cause, operation); ``cause`` is None
#: when it succeeded, "" when it failed on its own, else the callee whose failed call failed it
SpanRef = tuple[int, float, float, str | None, str]


@dataclass
class _Ctx:
    world: World
    shape: BundleShape
    k: int
    trace_id: str
    r: random.Random
    seq: int = 0
    refs: list[tuple[str, SpanRef]] | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)


def _sid(ctx: _Ctx) -> str:
    return f"{ctx.r.getrandbits(64):016x}"


def _lognormal(r: random.Random, p50: float, p99: float) -> float:
    sigma = max(math.log(max(p99, 1e-6) / max(p50, 1e-6)) / 2.326, 0.05)
    return max(p50, 1e-5) * math.exp(r.gauss(0, sigma))


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
    sid = _sid(ctx)
    ctx.spans.append(_span_record(ctx, service, name, start, dur, parent, error, attrs, sid))
    return sid


def _pod(r: random.Random, s: CompState, k: int) -> str:
    up = [p for p in s.pods if p.start <= k < p.end and not p.down[k]] or s.pods
    return up[r.randrange(len(up))].name


def _server(
    ctx: _Ctx, name: str, op: str, start: float, parent: str | None, depth: int
) -> tuple[float, bool]:
    """Walk one request into service ``name``; returns (duration s, failed)."""
    w, k, r = ctx.world, ctx.k, ctx.r
    s = w.st(name)
    own = _lognormal(r, float(s.own_p50[k]), float(s.own_p50[k] * s.tail))
    own_fail = sum(float(v[k]) for key, v in s.own_err.items())
    overload = max(0.0, min(0.72, (float(s.util[k]) - 1.0) / max(float(s.util[k]), 1e-9) * 0.8))
    failed = r.random() < own_fail + overload
    cause: str | None = "" if failed else None
    sid = f"{r.getrandbits(64):016x}"
    cursor = start + own * 0.3
    if not failed and depth < 12 and len(ctx.spans) < 400:
        for e in w.topo.out_edges(name):
            calls = _n_calls(r, e.calls)
            for _ in range(calls):
                dur, err = _call(ctx, s, e.dst, e.timeout_at(k), e.operation, e.tls, cursor, sid, depth)
                cursor += dur + r.uniform(0.0001, 0.002)
                if err and r.random() < e.prop * s.call_amp**0.2:
                    failed, cause = True, e.dst
                    break
            if failed:
                break
    dur = (cursor - start) + own * 0.7
    status = 500 if failed else 200
    attrs: dict[str, Any] = {"span.kind": "server", "k8s.pod.name": _pod(r, s, k)}
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
    if ctx.refs is not None and s.comp.telemetry:
        ctx.refs.append((name, (ctx.seq, start, start + dur, cause, op)))
    return dur, failed


def _n_calls(r: random.Random, mean: float) -> int:
    if mean < 1:
        return int(r.random() < mean)
    return min(3, max(1, int(mean + r.uniform(-0.5, 0.5))))


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
    w, k, r = ctx.world, ctx.k, ctx.r
    c = w.st(dst)
    fails = caller.call_fail.get(dst, {})
    delay = float(c.net_delay[k] + caller.net_delay[k])
    kind = None
    for name in ("refused", "tls", "reset"):
        f = fails.get(name)
        if f is not None and r.random() < float(f[k]):
            kind = name
            break
    instrumented = c.comp.kind == "service" and c.comp.telemetry
    client_attrs = _client_attrs(c, caller, op, tls)
    if kind is not None:
        dur = {
            "refused": r.uniform(0.0005, 0.004),
            "tls": r.uniform(0.003, 0.02),
            "reset": r.uniform(0.05, 1.0),
        }[kind] + delay
        client_attrs["error.message"] = _SHORT[kind]
        if instrumented and not ctx.shape.client_spans:
            client_attrs["span.kind"] = "client"
        _span(ctx, caller.comp.name, _client_name(c, op), start, dur, parent, True, client_attrs)
        return dur, True
    csid = _sid(ctx) if (not instrumented or ctx.shape.client_spans) else parent
    tail = float(c.net_tail[k] + caller.net_tail[k]) if r.random() < 0.05 else 0.0
    if r.random() < float(c.net_timeout[k]):  # retransmits / SYN retries push it past the deadline
        tail += timeout
    if instrumented:
        inner, err = _server(
            ctx, dst, op or (c.comp.operations or ("GET /",))[0], start + delay / 2 + tail, csid, depth + 1
        )
    elif c.comp.kind == "queue":
        inner, err = r.uniform(0.0005, 0.004), False
        _consume(ctx, c, start, csid, depth)
    else:
        inner = _lognormal(r, float(c.p50[k]), float(c.p99[k]))
        err = r.random() < float(c.err[k])
    dur = inner + delay + tail
    if dur > timeout:
        dur, err = timeout, True
        client_attrs["error.message"] = _SHORT["timeout"]
    if csid != parent:
        if err and "http.status_code" in client_attrs:
            client_attrs["http.status_code"] = 503 if c.comp.kind == "external" else 500
        ctx.spans.append(
            _span_record(
                ctx, caller.comp.name, _client_name(c, op), start, dur, parent, err, client_attrs, csid
            )
        )
    return dur, err


def _consume(ctx: _Ctx, queue: CompState, start: float, parent: str, depth: int) -> None:
    w = ctx.world
    for c in w.topo.components:
        if c.consumes == queue.comp.name and c.telemetry and ctx.r.random() < 0.8:
            op = f"process {queue.comp.name}"
            _server(ctx, c.name, op, start + ctx.r.uniform(0.01, 2.0), parent, depth + 1)


def _span_record(
    ctx: _Ctx,
    service: str,
    name: str,
    start: float,
    dur: float,
    parent: str | None,
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


class _Sampler:
    """Which entry a trace starts at, tick by tick, in proportion to the entries' traffic."""

    def __init__(self, world: World):
        self.entries = [world.st(n) for n in world.topo.entries()]
        self.weights = np.vstack([e.served for e in self.entries]) if self.entries else np.zeros((0, 0))
        total = self.weights.sum(axis=0) if self.entries else np.zeros(world.n)
        self.p_tick = total / max(float(total.sum()), 1e-12)

    def walk(self, ctx: _Ctx) -> list[dict[str, Any]]:
        w, k, r = ctx.world, ctx.k, ctx.r
        col = self.weights[:, k].tolist()
        entry = self.entries[r.choices(range(len(self.entries)), weights=col)[0] if sum(col) > 0 else 0]
        ops = entry.comp.operations or ("GET /",)
        op = ops[r.randrange(len(ops))]
        _server(ctx, entry.comp.name, op, float(w.t[k]) + r.uniform(0, TICK), None, 0)
        return ctx.spans


class TraceSet:
    """The spans of a bundle, as time-sorted runs in temporary files, and what logs link to."""

    def __init__(self) -> None:
        self.runs: list[Path] = []
        self.trace_ids: list[str] = []
        self.sizes: list[int] = []
        self.dropped: set[int] = set()
        self.refs: dict[tuple[str, int], list[SpanRef]] = {}

    @property
    def count(self) -> int:
        return sum(self.sizes) - sum(self.sizes[i] for i in self.dropped)

    def served(self, service: str, k: int) -> list[SpanRef]:
        """Requests of ``service`` that started in tick ``k`` and whose trace is in the bundle."""
        return [x for x in self.refs.get((service, k), ()) if x[0] not in self.dropped]

    def lines(self) -> Iterator[str]:
        """Every kept span as a JSON line, in start-time order (k-way merge of the runs)."""
        files = [p.open("r", encoding="utf-8") for p in self.runs]
        try:
            for line in heapq.merge(*files, key=_start_of):
                _, seq, text = line.rstrip("\n").split("\t", 2)
                if int(seq) not in self.dropped:
                    yield text
        finally:
            for fh in files:
                fh.close()


def _start_of(line: str) -> float:
    return float(line[: line.index("\t")])


def _plan(rng: np.random.Generator, p_tick: np.ndarray, traces: float) -> np.ndarray:
    """Traces per tick, proportional to traffic (systematic sampling: no clumps, no gaps)."""
    cum = np.floor(np.cumsum(p_tick) * traces + float(rng.random()))
    return np.diff(np.concatenate([[0.0], cum])).astype(int)


def _mean_spans(world: World, shape: BundleShape, sampler: _Sampler, r: random.Random, size: int) -> float:
    ticks = r.choices(range(world.n), weights=sampler.p_tick.tolist(), k=size)
    sizes = [len(sampler.walk(_Ctx(world, shape, k, "0" * 32, r))) for k in ticks]
    return max(sum(sizes) / len(sizes), 1.0)


def _write_run(
    world: World, shape: BundleShape, sampler: _Sampler, plan: np.ndarray, ts: TraceSet, fh: IO[str]
) -> None:
    heap: list[tuple[float, int, str]] = []
    n_pushed = 0
    for k in np.flatnonzero(plan).tolist():
        bound = float(world.t[k])
        while heap and heap[0][0] < bound:
            fh.write(heapq.heappop(heap)[2])
        for _ in range(int(plan[k])):
            seq = len(ts.trace_ids)
            tid = f"{world.r.getrandbits(128):032x}"
            refs: list[tuple[str, SpanRef]] = []
            spans = sampler.walk(_Ctx(world, shape, k, tid, world.r, seq, refs))
            ts.trace_ids.append(tid)
            ts.sizes.append(len(spans))
            for name, ref in refs:
                ts.refs.setdefault((name, k), []).append(ref)
            for rec in spans:
                text = json.dumps(rec, ensure_ascii=False, separators=(", ", ": "))
                heapq.heappush(heap, (float(rec["start"]), n_pushed, f"{rec['start']!r}\t{seq}\t{text}\n"))
                n_pushed += 1
    while heap:
        fh.write(heapq.heappop(heap)[2])


def build_traces(world: World, shape: BundleShape, target: int, tmpdir: Path) -> TraceSet:
    """Generate about ``target`` spans (within one trace of it, when traffic allows)."""
    ts = TraceSet()
    sampler = _Sampler(world)
    if not sampler.entries or target <= 0 or not sampler.p_tick.any():
        return ts
    pilot = max(20, min(120, target // 20))
    mean = _mean_spans(world, shape, sampler, random.Random(world.r.getrandbits(64)), pilot)
    for attempt in range(4):
        missing = target - sum(ts.sizes)
        if missing <= 0:
            break
        plan = _plan(world.rng, sampler.p_tick, missing * 1.04 / mean + 1)
        path = tmpdir / f"spans-{attempt}.run"
        with path.open("w", encoding="utf-8") as fh:
            _write_run(world, shape, sampler, plan, ts, fh)
        ts.runs.append(path)
        mean = max(sum(ts.sizes) / max(len(ts.sizes), 1), 1.0)
    excess = sum(ts.sizes) - target
    for i in world.rng.permutation(len(ts.sizes)).tolist():
        if excess <= 0:
            break
        if ts.sizes[i] <= excess:
            ts.dropped.add(i)
            excess -= ts.sizes[i]
    return ts
