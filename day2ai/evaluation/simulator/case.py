"""Assemble one case: topology, world, fault, decoys, telemetry, incident and truth; write it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from day2ai.errors import InputError
from day2ai.evaluation.simulator import decoys as decoy_mod
from day2ai.evaluation.simulator.faults import eligible, inject
from day2ai.evaluation.simulator.logs import log_lines
from day2ai.evaluation.simulator.metrics import metric_lines
from day2ai.evaluation.simulator.spec import CaseSpec, Difficulty, case_rng
from day2ai.evaluation.simulator.topology import Topology, build_topology
from day2ai.evaluation.simulator.traces import TraceSet, build_traces
from day2ai.evaluation.simulator.world import TICK, World, build_world, calibrate_timeouts, propagate
from day2ai.evaluation.simulator.writer import fresh_dir, rfc3339, write_jsonl, write_yaml
from day2ai.models import Fault

_EPOCH_2026 = 1767225600  # 2026-01-01T00:00:00Z
_SEVERITY = {Difficulty.EASY: 1.0, Difficulty.MEDIUM: 0.75, Difficulty.HARD: 0.5}


def _topology_with(rng: np.random.Generator, spec: CaseSpec) -> tuple[Topology, str]:
    for _ in range(40):
        topo = build_topology(rng, spec.shape, spec.n_components)
        names = eligible(topo, spec.fault)
        if names:
            w = np.array(
                [
                    0.35 if topo.get(x).role == "entry" and spec.fault is not Fault.TRAFFIC_SURGE else 1.0
                    for x in names
                ]
            )
            return topo, names[int(rng.choice(len(names), p=w / w.sum()))]
    raise InputError(f"could not build a topology for fault {spec.fault} with shape {spec.shape}")


def _symptom(world: World, root: str) -> tuple[str, str, int]:
    """(entry service, 'latency' | 'errors', detection tick)."""
    topo = world.topo
    cands = [x for x in [root, *topo.ancestors(root)] if topo.get(x).role == "entry"]
    k0 = world.onset
    best: tuple[float, str, str] | None = None
    for name in cands:
        s = world.st(name)
        pre = slice(max(0, k0 - 40), max(k0 - 2, 1))
        post = slice(k0, min(world.n, k0 + 40))
        d_err = float(np.mean(s.err[post]) - np.mean(s.err[pre]))
        d_lat = float(np.mean(s.p99[post]) / max(float(np.mean(s.p99[pre])), 1e-6))
        kind = "errors" if d_err * 40 > d_lat - 1 else "latency"
        score = max(d_err * 40, d_lat - 1) * world.r.uniform(0.7, 1.3)
        if best is None or score > best[0]:
            best = (score, name, kind)
    if best is None:
        return root, "errors", k0 + 8
    _, name, kind = best
    s = world.st(name)
    base = s.err if kind == "errors" else s.p99
    ref = float(np.percentile(base[: max(k0 - 2, 2)], 95))
    hot = np.flatnonzero(base[k0:] > ref * 1.3 + (0.002 if kind == "errors" else 0))
    first = k0 + int(hot[0]) if hot.size else k0 + 4
    return name, kind, min(first + world.r.randint(4, 16), world.n - 2)


def _incident(world: World, spec: CaseSpec, symptom: str, kind: str, detected: int) -> dict[str, Any]:
    end = float(world.t[-1]) + TICK
    s = world.st(symptom)
    if kind == "latency":
        p99 = float(np.max(s.p99[world.onset : detected + 1]))
        title = f"High p99 latency on {symptom}"
        desc = f"p99 latency of {symptom} above {max(p99 * 0.8, 0.05):.2f} s for 5 minutes"
        alert = "HighLatencyP99"
    else:
        ratio = float(np.max(s.err[world.onset : detected + 1]))
        title = world.r.choice(
            (f"Elevated 5xx error rate on {symptom}", f"{symptom}: error budget burn rate too high")
        )
        desc = f"{max(ratio * 80, 0.5):.1f}% of requests to {symptom} fail (5xx) for 5 minutes"
        alert = "HighErrorRate" if "5xx" in title else "SLOBurnRateFast"
    inc: dict[str, Any] = {
        "id": f"{symptom if spec.bundle.symptom_service else 'incident'}-{kind}-{spec.index:04d}",
        "title": title
        if spec.bundle.symptom_service
        else world.r.choice(
            (
                "Customers report failed and slow requests",
                "Synthetic check failing",
                "On-call paged: user impact",
            )
        ),
        "detected_at": rfc3339(world.at(detected, world.r.uniform(0, 14))),
        "window": {"start": rfc3339(world.start), "end": rfc3339(end)},
    }
    b = spec.bundle.baseline
    quiet_end = world.onset - world.r.randint(8, 20)
    if b == "adjacent" and quiet_end > 20:
        inc["baseline"] = {"start": rfc3339(world.start), "end": rfc3339(world.at(quiet_end))}
    elif b == "short" and quiet_end > 60:
        a = world.r.randint(0, quiet_end - 60)
        inc["baseline"] = {"start": rfc3339(world.at(a)), "end": rfc3339(world.at(a + 40))}
    if spec.bundle.symptom_service:
        inc["symptom"] = {
            "service": symptom,
            "description": desc,
            "alert": {"name": alert, "labels": {"severity": "page", "service": symptom}},
        }
    else:
        inc["symptom"] = {"service": None, "description": desc.replace(symptom, "the public site")}
    return inc


def _topology_doc(world: World) -> dict[str, Any]:
    topo = world.topo
    services = []
    for i in world.rng.permutation(len(topo.components)).tolist():
        c = topo.components[i]
        deps = [e.dst for e in topo.out_edges(c.name)] + ([c.consumes] if c.consumes else [])
        services.append({"name": c.name, "kind": c.kind, "depends_on": deps})
    return {"services": services}


def _changes(world: World) -> list[dict[str, Any]]:
    out = []
    for ch in sorted(world.changes, key=lambda c: float(c["timestamp"])):
        out.append({**ch, "timestamp": rfc3339(float(ch["timestamp"]))})
    return out


def simulate_case(out_dir: Path, spec: CaseSpec) -> Path:
    """Simulate the case ``spec`` and write its bundle to ``out_dir`` (replacing what was there)."""
    rng = case_rng(spec.seed, spec.index, 2)
    topo, root = _topology_with(rng, spec)
    n = int(spec.window_minutes * 60 / TICK)
    onset = max(int(n * 0.4), n - int(rng.uniform(12, 30) * 60 / TICK))
    day = int(rng.integers(0, 330))
    start = float(_EPOCH_2026 + day * 86400 + int(rng.integers(0, 86400 // 15)) * 15)
    world = build_world(topo, rng, start, spec.window_minutes, onset)
    calibrate_timeouts(world)
    severity = _SEVERITY[spec.difficulty] * float(rng.uniform(0.85, 1.15))
    result = inject(world, spec.fault, root, severity)
    for d in spec.decoys:
        decoy_mod.DECOY_FUNCS[d](world, root)
    decoy_mod.background_changes(world, root, spec.fault)
    propagate(world)
    symptom, kind, detected = _symptom(world, root)
    incident = _incident(world, spec, symptom, kind, detected)
    target = fresh_dir(out_dir)
    shape = spec.bundle
    write_yaml(target / "incident.yaml", incident)
    if shape.topology:
        write_yaml(target / "topology.yaml", _topology_doc(world))
    write_jsonl(target / "metrics.jsonl", metric_lines(world, shape), "metrics" in shape.gzip)
    with tempfile.TemporaryDirectory(prefix=".spans-", dir=target) as tmp:
        traces: TraceSet | None = build_traces(world, shape, spec.spans, Path(tmp)) if shape.traces else None
        logs = log_lines(world, shape, spec.log_lines, traces)
        write_jsonl(target / "logs.jsonl", logs, "logs" in shape.gzip)
        if traces is not None:
            write_jsonl(target / "traces.jsonl", traces.lines(), "traces" in shape.gzip)
    if shape.changes:
        write_jsonl(target / "changes.jsonl", _changes(world), "changes" in shape.gzip)
    write_yaml(
        target / "truth.yaml",
        {
            "root_cause": {"service": root, "fault": spec.fault.value, "detail": result.detail},
            "remediation": result.remediation,
            "simulation": {
                "seed": spec.seed,
                "index": spec.index,
                "difficulty": spec.difficulty.value,
                "shape": spec.shape,
                "decoys": list(spec.decoys),
            },
        },
    )
    return target
