"""Metric series in the shape of a Prometheus range-query result, per service and/or per pod."""

from __future__ import annotations

import json
import zlib

import numpy as np

from day2ai.evaluation.simulator.spec import BundleShape
from day2ai.evaluation.simulator.topology import has_pool
from day2ai.evaluation.simulator.world import CompState, Pod, World

_MEM_LIMIT = {"java": 2 * 1024**3, "go": 512 * 1024**2, "python": 1024**3, "node": 1024**3}
REQUEST = (
    "request_rate",
    "request_error_ratio",
    "request_latency_p50_seconds",
    "request_latency_p99_seconds",
)


def _fmt(values: np.ndarray, times: np.ndarray, keep: np.ndarray) -> str:
    parts = []
    for ts, v, k in zip(times.tolist(), values.tolist(), keep.tolist(), strict=True):
        if k:
            parts.append(f'[{int(ts)}, "{"NaN" if v != v else format(v, ".6g")}"]')
    return "[" + ", ".join(parts) + "]"


class _Emitter:
    def __init__(self, world: World, shape: BundleShape):
        self.world = world
        self.f = max(1, shape.step_seconds // 15)
        self.times = world.t[:: self.f]
        self.lines: list[str] = []

    def down(self, x: np.ndarray, counter: bool = False) -> np.ndarray:
        n = (len(x) // self.f) * self.f
        if self.f == 1:
            return x
        head = x[:n].reshape(-1, self.f)
        out = (
            head[:, -1]
            if counter
            else np.nanmean(head, axis=1)
            if np.isnan(head).any()
            else head.mean(axis=1)
        )
        if n < len(x):
            out = np.append(out, x[-1])
        return np.asarray(out[: len(self.times)])

    def emit(
        self,
        name: str,
        labels: dict[str, str],
        x: np.ndarray,
        alive: np.ndarray | None = None,
        counter: bool = False,
    ) -> None:
        v = self.down(x, counter)
        keep = np.ones(len(v), dtype=bool) if alive is None else self.down(alive.astype(float)) > 0.5
        if not keep.any():
            return
        self.lines.append(
            '{"metric": '
            + json.dumps({"__name__": name, **labels})
            + ', "values": '
            + _fmt(v, self.times, keep)
            + "}"
        )


def _alive(pod: Pod, n: int) -> np.ndarray:
    a = np.zeros(n, dtype=bool)
    a[pod.start : pod.end] = True
    return a


def _pod_shares(world: World, s: CompState) -> list[tuple[Pod, np.ndarray, np.ndarray]]:
    """(pod, alive mask, share of the service's traffic served by this pod)."""
    n = world.n
    up = np.zeros(n)
    alive = []
    for p in s.pods:
        a = _alive(p, n)
        alive.append(a)
        up += a & ~p.down
    out = []
    for p, a in zip(s.pods, alive, strict=True):
        jitter = 1 + world.rng.normal(0, 0.05, n)
        out.append((p, a, np.where(a & ~p.down, jitter / np.maximum(up, 1), 0.0)))
    return out


def _memory(world: World, s: CompState, pod: Pod, limit: float) -> np.ndarray:
    n = world.n
    if pod.mem is not None:
        frac = pod.mem
    else:
        base = world.rng.uniform(0.3, 0.6)
        frac = base + np.cumsum(world.rng.normal(0, 0.002, n))
        if s.comp.runtime == "java":
            period = world.r.randint(8, 30)
            frac = frac + 0.12 * ((np.arange(n) % period) / period)
        frac = np.clip(frac, 0.1, 0.8)
    return np.asarray(frac * limit * (1 + world.rng.normal(0, 0.004, n)))


def metric_lines(world: World, shape: BundleShape) -> list[str]:
    em = _Emitter(world, shape)
    for c in world.topo.components:
        if c.telemetry and c.kind != "external":
            _component(world, shape, em, world.st(c.name))
    order = world.rng.permutation(len(em.lines))
    return [em.lines[i] for i in order]


def _component(world: World, shape: BundleShape, em: _Emitter, s: CompState) -> None:
    n, c = world.n, s.comp
    svc_labels = {"service": c.name, "namespace": "prod"}
    limit = float(_MEM_LIMIT.get(c.runtime, 1024**3) if c.kind == "service" else 4 * 1024**3)
    served = s.served * (1 + world.rng.normal(0, 0.02, n))
    nan_if_idle = np.where(served < 1e-3, np.nan, 1.0)
    pods = _pod_shares(world, s)
    retrans = world.notes.get("retrans", {}).get(c.name, np.zeros(n))
    throttled = np.clip((s.util - 0.85) * 2.5, 0, 0.95)
    bytes_per_req = 2000 + 12000 * (abs(hash_name(c.name)) % 100) / 100
    req: dict[str, np.ndarray] = {
        "request_rate": served,
        "request_error_ratio": s.err * nan_if_idle,
        "request_latency_p50_seconds": s.p50 * nan_if_idle,
        "request_latency_p99_seconds": s.p99 * nan_if_idle,
    }
    if c.kind != "service":
        del req["request_error_ratio"]
    pool_max = s.conns_max if c.kind == "service" else int(world.r.choice((100, 200, 500)))
    use_pool = (c.kind == "service" and has_pool(world.topo, c.name)) or c.kind == "database"
    in_use = _connections(world, s, pool_max)
    per_pod_all = shape.metric_layout == "pod"
    per_pod_res = shape.metric_layout in ("pod", "mixed")
    svc_res: dict[str, list[np.ndarray]] = {}
    for pod, alive, share in pods:
        labels = {**svc_labels, "pod": pod.name}
        cpu = np.where(
            pod.down,
            0.01,
            np.minimum(s.util * (1 + world.rng.normal(0, 0.04, n)), 1.0 + 0.02 * world.rng.random(n)),
        )
        if pod.cpu_extra is not None:
            cpu = cpu + pod.cpu_extra
        restarts = pod.restarts0 + np.cumsum(np.isin(np.arange(n), pod.restart_ticks))
        res = {
            "cpu_usage_ratio": np.clip(cpu, 0, 1.05),
            "cpu_throttled_ratio": np.where(pod.down, 0, throttled + np.abs(world.rng.normal(0, 0.01, n))),
            "memory_working_set_bytes": _memory(world, s, pod, limit),
            "memory_limit_bytes": np.full(n, limit),
            "restarts_total": restarts.astype(float),
            "network_receive_bytes_rate": served * share * bytes_per_req * 0.3,
            "network_transmit_bytes_rate": served * share * bytes_per_req,
        }
        if shape.retransmit_metric:
            res["tcp_retransmit_segments_rate"] = np.abs(0.3 + world.rng.normal(0, 0.2, n)) * (1 + retrans)
        if c.volume and (c.kind != "service" or per_pod_all):
            res["disk_usage_ratio"] = s.disk
        for name, x in res.items():
            if per_pod_res:
                em.emit(name, labels, x, alive, counter=name == "restarts_total")
            svc_res.setdefault(name, []).append(np.where(alive, x, np.nan))
        if per_pod_all:
            for name, x in req.items():
                em.emit(name, labels, x * share if name == "request_rate" else x, alive)
            if use_pool:
                em.emit("connections_in_use", labels, np.minimum(in_use * share * len(pods), pool_max), alive)
                em.emit("connections_max", labels, np.full(n, float(pool_max)), alive)
    if not per_pod_res:
        for name, xs in svc_res.items():
            stack = np.vstack(xs)
            agg = (
                np.nansum(stack, axis=0)
                if name.startswith(("memory", "network", "restarts"))
                else np.nanmean(stack, axis=0)
            )
            em.emit(name, svc_labels, agg, counter=name == "restarts_total")
    if c.volume and c.kind == "service" and not per_pod_all:
        em.emit("disk_usage_ratio", svc_labels, s.disk)
    if not per_pod_all:
        for name, x in req.items():
            em.emit(name, svc_labels, x)
        if use_pool:
            em.emit("connections_in_use", svc_labels, np.minimum(in_use * len(pods), pool_max * len(pods)))
            em.emit("connections_max", svc_labels, np.full(n, float(pool_max * len(pods))))


def _connections(world: World, s: CompState, pool_max: int) -> np.ndarray:
    """Per-pod pool usage by Little's law over the database calls, plus leaked connections."""
    n = world.n
    busy = np.zeros(n)
    if s.comp.kind == "database":
        for e in world.topo.in_edges(s.comp.name):
            busy += world.st(e.src).served * e.calls * s.p50 * 8 + 4
    else:
        for e in world.topo.out_edges(s.comp.name):
            if world.topo.get(e.dst).kind == "database":
                busy += s.served * e.calls * world.st(e.dst).p50 / max(len(s.pods), 1)
        busy = busy + 1
    busy = busy * (1 + np.abs(world.rng.normal(0, 0.15, n))) + s.conn_floor
    return np.asarray(np.minimum(np.round(busy), pool_max))


def hash_name(name: str) -> int:
    """A stable (not hash-randomised) integer for a name."""
    return zlib.crc32(name.encode())
