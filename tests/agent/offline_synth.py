"""A tiny hand-built incident world for the offline investigator's tests (not the simulator).

frontend -> checkout -> payments -> payments-db (database, seen only through client spans)
frontend -> catalog;  checkout -> catalog
One fault is injected at ``onset``; its effects propagate to callers a little later.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from day2ai.models import Component, ComponentKind, Incident, Topology
from day2ai.sources.base import (
    Change,
    ChangeQuery,
    LogQuery,
    LogRecord,
    MetricQuery,
    MetricSeries,
    Sources,
    Span,
    SpanQuery,
    log_matches,
    span_matches,
)

T0 = 1_773_480_000.0
WINDOW = 3600.0
ONSET = T0 + 2400.0
DETECTED = ONSET + 180.0
STEP = 15.0
SERVICES = ("frontend", "checkout", "payments", "catalog")
EDGES = {
    "frontend": ["checkout", "catalog"],
    "checkout": ["payments", "catalog"],
    "payments": ["payments-db"],
}
BASE_MS = {"frontend": 20.0, "checkout": 15.0, "payments": 10.0, "catalog": 8.0, "payments-db": 3.0}


@dataclass
class World:
    incident: Incident
    topology: Topology
    series: list[MetricSeries] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    root: str = ""
    fault: str = ""


class MemorySource:
    """Every source Protocol over in-memory lists."""

    def __init__(self, world: World):
        self.w = world

    async def series(self, query: MetricQuery) -> AsyncIterator[MetricSeries]:
        for s in self.w.series:
            if query.services is None or s.service in query.services:
                yield s

    async def logs(self, query: LogQuery) -> AsyncIterator[LogRecord]:
        n = 0
        for r in self.w.logs:
            if log_matches(r, query):
                yield r
                n += 1
                if query.limit and n >= query.limit:
                    return

    async def spans(self, query: SpanQuery) -> AsyncIterator[Span]:
        for s in self.w.spans:
            if span_matches(s, query):
                yield s

    async def changes(self, query: ChangeQuery) -> AsyncIterator[Change]:
        for c in self.w.changes:
            yield c

    async def topology(self) -> Topology | None:
        return self.w.topology


def sources(world: World, *, without: tuple[str, ...] = ()) -> Sources:
    src = MemorySource(world)
    kinds = {k: (None if k in without else src) for k in ("metrics", "logs", "traces", "changes", "topology")}
    return Sources(**kinds)  # type: ignore[arg-type]


def _effect(root: str, fault: str) -> dict[str, float]:
    """Extra latency factor per service from t >= onset (+ delay by distance from the root)."""
    chain = {
        "payments-db": ["payments", "checkout", "frontend"],
        "payments": ["checkout", "frontend"],
        "checkout": ["frontend"],
        "catalog": ["checkout", "frontend"],
    }
    out = {root: 1.0}
    for i, up in enumerate(chain.get(root, [])):
        out[up] = 0.8 - 0.1 * i
    return out


def make_world(fault: str, root: str, seed: int = 0, *, baseline: bool = False, with_deploy: bool = False) -> World:
    rng = np.random.default_rng(seed)
    incident = Incident.model_validate(
        {
            "id": f"synth-{fault}-{root}",
            "title": "High latency on frontend",
            "detected_at": DETECTED,
            "window": {"start": T0, "end": T0 + WINDOW},
            "baseline": {"start": T0, "end": T0 + 1800} if baseline else None,
            "symptom": {"service": "frontend", "description": "p99 latency above 1s"},
        }
    )
    comps = [Component(name=s, depends_on=EDGES.get(s, [])) for s in SERVICES]
    comps.append(Component(name="payments-db", kind=ComponentKind.DATABASE))
    world = World(incident=incident, topology=Topology(services=comps), root=root, fault=fault)
    affected = _effect(root, fault)
    ts = np.arange(T0, T0 + WINDOW, STEP)
    after = ts >= ONSET
    for svc in SERVICES:
        lag = (
            0.0
            if svc == root
            else 45.0
            * (
                1 + ["payments", "checkout", "frontend"].index(svc)
                if svc in ("payments", "checkout", "frontend")
                else 1
            )
        )
        late = ts >= ONSET + lag
        cpu = 0.3 + rng.normal(0, 0.02, len(ts))
        mem = 4e8 + rng.normal(0, 4e6, len(ts))
        lat = BASE_MS[svc] / 1000 * 3 + rng.normal(0, 0.002, len(ts))
        err = np.abs(rng.normal(0.002, 0.001, len(ts)))
        rate = 50 + rng.normal(0, 2, len(ts))
        restarts = np.zeros(len(ts))
        if svc in affected:
            f = affected[svc]
            lat = lat + late * 0.5 * f
            if svc == root and fault == "cpu_saturation":
                cpu = np.where(after, 0.97 + rng.normal(0, 0.01, len(ts)), cpu)
            if svc == root and fault == "memory_leak":
                mem = mem + np.clip(ts - ONSET, 0, None) * 2e5
                restarts = np.where(ts >= ONSET + 900, 1.0, 0.0)
            if (svc == root and fault == "code_error") or (svc != root and fault in ("code_error",)):
                err = err + late * 0.2 * f
        series = {
            "cpu_usage_ratio": cpu,
            "memory_working_set_bytes": mem,
            "request_latency_p99_seconds": lat,
            "request_error_ratio": err,
            "request_rate": rate,
            "restarts_total": restarts,
        }
        for name, vals in series.items():
            world.series.append(
                MetricSeries(
                    name=name,
                    service=svc,
                    labels={"service": svc, "pod": f"{svc}-0"},
                    timestamps=[float(t) for t in ts],
                    values=[float(v) for v in vals],
                )
            )
    _traffic(world, rng, affected)
    if with_deploy:
        world.changes.append(
            Change(
                timestamp=ONSET - 120,
                service=root,
                kind="deploy",  # type: ignore[arg-type]
                summary=f"{root} v2.0.1 rollout",
                version="v2.0.1",
            )
        )
    world.changes.append(
        Change(
            timestamp=T0 + 600,
            service="catalog",
            kind="config",  # type: ignore[arg-type]
            summary="catalog: raise cache ttl",
        )
    )
    return world


@dataclass
class _Request:
    """One request through the system: a trace of spans and the log lines it leaves."""

    world: World
    rng: np.random.Generator
    tid: str
    t: float
    bad: bool
    spans: int = 0

    def span(self, svc: str, parent: str | None, name: str, ms: float, err: bool, attrs: dict[str, Any]) -> str:
        self.spans += 1
        sid = f"{self.tid}-{self.spans}"
        self.world.spans.append(
            Span(
                trace_id=self.tid,
                span_id=sid,
                parent_span_id=parent,
                service=svc,
                name=name,
                start=self.t,
                duration_ms=ms,
                status="error" if err else "ok",
                attributes=attrs,
            )
        )
        return sid

    def call(self, svc: str, parent: str | None) -> tuple[float, bool]:
        root, fault, bad = self.world.root, self.world.fault, self.bad
        own = BASE_MS[svc] * float(self.rng.uniform(0.8, 1.2))
        err = False
        if bad and svc == root and fault in ("cpu_saturation", "memory_leak"):
            own += 400.0
        if bad and svc == root and fault == "code_error" and self.rng.random() < 0.3:
            err = True
        kids: list[tuple[str, float, bool]] = []
        total = own
        sid = self.span(svc, parent, f"GET /{svc}", 0.0, False, {})
        idx = len(self.world.spans) - 1
        for callee in EDGES.get(svc, []):
            if callee == "payments-db":
                ms = BASE_MS[callee] * float(self.rng.uniform(0.8, 1.2))
                e = False
                if bad and root == "payments-db":
                    ms += 800.0
                    e = bool(self.rng.random() < 0.2)
                attrs = {"db.system": "postgresql", "peer.service": "payments-db"}
                self.span(svc, sid, "SELECT payments", ms, e, attrs)
                kids.append((callee, ms, e))
            else:
                kids.append((callee, *self.call(callee, sid)))
            total += kids[-1][1]
        err = err or any(k[2] for k in kids)
        update = {"duration_ms": total, "status": "error" if err else "ok"}
        self.world.spans[idx] = self.world.spans[idx].model_copy(update=update)
        _log(self.world, self.rng, self.t, svc, kids, err, bad, self.tid)
        return total, err


def _traffic(world: World, rng: np.random.Generator, affected: dict[str, float]) -> None:
    for i, t in enumerate(np.arange(T0, T0 + WINDOW, 4.0)):
        _Request(world, rng, f"t{i:06x}", float(t), bool(t >= ONSET)).call("frontend", None)


def _log(
    world: World,
    rng: np.random.Generator,
    t: float,
    svc: str,
    kids: list[tuple[str, float, bool]],
    err: bool,
    bad: bool,
    tid: str,
) -> None:
    add = world.logs.append
    add(
        LogRecord(
            timestamp=t,
            service=svc,
            level="INFO",
            message=f"handled request id={int(rng.integers(1e6))} in {int(rng.integers(5, 50))}ms",
            trace_id=tid,
        )
    )
    root, fault = world.root, world.fault
    if not bad:
        return
    if svc == root and fault == "code_error" and err and not any(k[2] for k in kids):
        add(
            LogRecord(
                timestamp=t,
                service=svc,
                level="ERROR",
                trace_id=tid,
                message="Unhandled exception: TypeError: Cannot read properties of undefined (reading 'price')",
            )
        )
    for callee, ms, e in kids:
        if e:
            add(
                LogRecord(
                    timestamp=t,
                    service=svc,
                    level="ERROR",
                    trace_id=tid,
                    message=f"call to {callee}:5432 failed: deadline exceeded after {int(ms)}ms",
                )
            )
    if svc == root and fault == "memory_leak" and rng.random() < 0.01:
        add(LogRecord(timestamp=t, service=svc, level="WARN", message="GC overhead limit exceeded, heap 97% used"))


def write_bundle(world: World, path: Path, *, skip: tuple[str, ...] = (), gz: bool = False) -> Path:
    """Write the world as an incident bundle (files in ``skip`` are left out)."""
    path.mkdir(parents=True, exist_ok=True)
    inc = world.incident.model_dump(mode="json", exclude_none=True)
    (path / "incident.yaml").write_text(json.dumps(inc))
    if "topology" not in skip:
        (path / "topology.yaml").write_text(json.dumps(world.topology.model_dump(mode="json")))
    rows: dict[str, list[dict[str, Any]]] = {
        "metrics": [
            {
                "metric": {"__name__": s.name, **s.labels},
                "values": [[t, str(v)] for t, v in zip(s.timestamps, s.values, strict=True)],
            }
            for s in world.series
        ],
        "logs": [r.model_dump(exclude_none=True) for r in world.logs],
        "traces": [s.model_dump(exclude_none=True) for s in world.spans],
        "changes": [c.model_dump(mode="json", exclude_none=True) for c in world.changes],
    }
    for kind, items in rows.items():
        if kind in skip:
            continue
        text = "\n".join(json.dumps(x) for x in items) + "\n"
        if gz:
            with gzip.open(path / f"{kind}.jsonl.gz", "wt") as fh:
                fh.write(text)
        else:
            (path / f"{kind}.jsonl").write_text(text)
    (path / "truth.yaml").write_text(json.dumps({"root_cause": {"service": world.root, "fault": world.fault}}))
    return path
