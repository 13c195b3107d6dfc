"""The simulated system over time: per-component state arrays and their propagation.

Everything lives on an internal 15 s grid. Faults and decoys edit the inputs (capacity, own
latency and errors, reachability, network delay, pod downtime); :func:`propagate` then derives
what every component serves and what its callers see, bottom-up through the call graph, so
latency and errors ripple to callers with smaller relative size and a tick or two of lag.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from day2ai.evaluation.simulator.templates import startup_lines
from day2ai.evaluation.simulator.topology import Component, Edge, Topology, topological_order

TICK = 15.0
CALL_FAILURES = ("refused", "tls", "reset", "timeout", "http5xx")


@dataclass
class Pod:
    name: str
    ip: str
    start: int
    end: int
    version: str
    restarts0: int
    down: np.ndarray
    restart_ticks: list[int] = field(default_factory=list)
    mem: np.ndarray | None = None
    cpu_extra: np.ndarray | None = None


@dataclass
class LogEvent:
    t: float
    service: str
    level: str
    message: str
    pod: str | None = None


@dataclass
class CompState:
    comp: Component
    pods: list[Pod]
    base_lat: float
    tail: float
    idle_cpu: float
    capacity: np.ndarray
    lat_mult: np.ndarray
    lat_add: np.ndarray
    cpu_extra: np.ndarray
    rate_mult: np.ndarray
    refused: np.ndarray
    tls: np.ndarray
    reset: np.ndarray
    net_delay: np.ndarray
    net_tail: np.ndarray
    net_timeout: np.ndarray  # share of calls the network path pushes past the caller's deadline
    disk: np.ndarray
    conn_floor: np.ndarray
    own_err: dict[str, np.ndarray] = field(default_factory=dict)
    conns_max: int = 0
    verbosity: float = 1.0
    log_err_mult: float = 1.0
    call_amp: float = 1.0
    version: str = "v1.0.0"
    base: np.ndarray = field(default_factory=lambda: np.zeros(0))  # entry load / worker noise
    # results of propagate()
    offered: np.ndarray = field(default_factory=lambda: np.zeros(0))
    served: np.ndarray = field(default_factory=lambda: np.zeros(0))
    util: np.ndarray = field(default_factory=lambda: np.zeros(0))
    p50: np.ndarray = field(default_factory=lambda: np.zeros(0))
    own_p50: np.ndarray = field(default_factory=lambda: np.zeros(0))
    p99: np.ndarray = field(default_factory=lambda: np.zeros(0))
    err: np.ndarray = field(default_factory=lambda: np.zeros(0))
    err_causes: dict[str, np.ndarray] = field(default_factory=dict)
    call_fail: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    call_slow: dict[str, np.ndarray] = field(default_factory=dict)  # share of calls over half the deadline
    down_frac: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class World:
    topo: Topology
    t: np.ndarray  # tick start epochs
    start: float
    onset: int  # tick of fault onset
    states: dict[str, CompState]
    rng: np.random.Generator
    r: random.Random
    events: list[LogEvent] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    noisy_warn: str | None = None
    jobs: list[tuple[str, str, int]] = field(default_factory=list)  # service, job, period ticks
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.t)

    def st(self, name: str) -> CompState:
        return self.states[name]

    def after(self, tick: int) -> np.ndarray:
        return (np.arange(self.n) >= tick).astype(float)

    def ramp(self, tick: int, ticks: int) -> np.ndarray:
        """0 before ``tick``, rising linearly to 1 over ``ticks``."""
        return np.clip((np.arange(self.n) - tick + 1) / max(ticks, 1), 0.0, 1.0)

    def at(self, tick: int, jitter: float = 0.0) -> float:
        return float(self.start + tick * TICK + jitter)


def hex_id(rng: np.random.Generator, nbytes: int) -> str:
    return rng.bytes(nbytes).hex()


def pod_suffix(rng: np.random.Generator, replicaset: bool) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    tail = "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), 5))
    if not replicaset:
        return tail
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), 9)) + "-" + tail


def new_pod(
    w_rng: np.random.Generator,
    comp: Component,
    n: int,
    start: int,
    end: int,
    version: str,
    ordinal: int | None = None,
) -> Pod:
    stateful = comp.kind in ("database", "cache", "queue")
    name = (
        f"{comp.name}-{ordinal}"
        if stateful and ordinal is not None
        else f"{comp.name}-{pod_suffix(w_rng, True)}"
    )
    ip = f"10.{int(w_rng.integers(0, 8))}.{int(w_rng.integers(0, 256))}.{int(w_rng.integers(2, 255))}"
    return Pod(
        name=name,
        ip=ip,
        start=start,
        end=end,
        version=version,
        restarts0=int(w_rng.integers(0, 3)),
        down=np.zeros(n, dtype=bool),
    )


def _daily(t: np.ndarray, phase_h: float) -> np.ndarray:
    hours = (t / 3600.0 + phase_h) % 24.0
    return 1.0 + 0.35 * np.cos((hours - 14.0) / 24.0 * 2 * np.pi)


def _ar1(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.85) -> np.ndarray:
    eps = rng.normal(0, sigma * math.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    acc = rng.normal(0, sigma)
    for i in range(n):
        acc = phi * acc + eps[i]
        out[i] = acc
    return out


_BASE_LAT = {
    "service": (0.002, 0.025),
    "database": (0.0008, 0.006),
    "cache": (0.0002, 0.0012),
    "queue": (0.001, 0.004),
    "external": (0.04, 0.2),
}


def build_world(topo: Topology, rng: np.random.Generator, start: float, minutes: int, onset: int) -> World:
    n = int(minutes * 60 / TICK)
    t = start + np.arange(n) * TICK
    states: dict[str, CompState] = {}
    for c in topo.components:
        zeros = np.zeros(n)
        major, minor = int(rng.integers(1, 6)), int(rng.integers(0, 40))
        version = f"v{major}.{minor}.{int(rng.integers(0, 10))}"
        pods = [new_pod(rng, c, n, 0, n, version, ordinal=i) for i in range(c.replicas)]
        disk = np.clip(
            rng.uniform(0.25, 0.7) + np.linspace(0, rng.uniform(0, 0.01), n) + rng.normal(0, 0.002, n), 0, 1
        )
        states[c.name] = CompState(
            comp=c,
            pods=pods,
            base_lat=float(rng.uniform(*_BASE_LAT[c.kind])),
            tail=float(rng.uniform(2.5, 5)),
            idle_cpu=float(rng.uniform(0.02, 0.08)),
            capacity=np.ones(n),
            lat_mult=np.ones(n),
            lat_add=zeros.copy(),
            cpu_extra=zeros.copy(),
            rate_mult=np.ones(n),
            refused=zeros.copy(),
            tls=zeros.copy(),
            reset=zeros.copy(),
            net_delay=zeros.copy(),
            net_tail=zeros.copy(),
            net_timeout=zeros.copy(),
            disk=disk,
            conn_floor=zeros.copy(),
            conns_max=int(rng.choice([10, 16, 20, 32, 50])),
            verbosity=float(rng.lognormal(0, 0.6)),
            version=version,
        )
        if c.kind == "service" and rng.random() < 0.5:
            states[c.name].own_err["bg"] = np.full(n, float(rng.uniform(0.0002, 0.003)))
    world = World(
        topo=topo,
        t=t,
        start=start,
        onset=onset,
        states=states,
        rng=rng,
        r=random.Random(int(rng.integers(2**62))),
    )
    _offered_rates(world, phase=float(rng.uniform(-1, 1)))
    for s in states.values():  # capacity from the healthy peak so utilisation sits at 20-60 %
        peak = float(np.percentile(s.offered, 95)) if s.offered.size else 1.0
        s.capacity = np.full(n, max(peak, 0.05) / float(rng.uniform(0.2, 0.55)))
    services = [c.name for c in topo.components if c.kind == "service"]
    world.noisy_warn = services[int(rng.integers(len(services)))]
    for _ in range(int(rng.integers(1, 3))):
        svc = services[int(rng.integers(len(services)))]
        job = str(
            rng.choice(
                [
                    "cleanup-expired-sessions",
                    "refresh-price-cache",
                    "sync-inventory",
                    "compact-outbox",
                    "rotate-api-keys-check",
                    "reconcile-payments",
                    "rebuild-sitemap",
                ]
            )
        )
        world.jobs.append((svc, job, int(rng.choice([20, 40, 60]))))
    return world


def _offered_rates(world: World, phase: float) -> None:
    rng, topo, n = world.rng, world.topo, world.n
    for name in topological_order(topo):
        s = world.st(name)
        c = s.comp
        if c.role == "entry":
            base = float(rng.uniform(15, 250))
            noise = 1 + _ar1(rng, n, float(rng.uniform(0.03, 0.08)))
            s.base = np.maximum(base * _daily(world.t, phase) * noise, 0.01)
            s.offered = s.base * s.rate_mult
        elif c.consumes:
            s.base = 1 + _ar1(rng, n, 0.05)
            s.offered = world.st(c.consumes).offered * s.base
        else:
            s.offered = np.zeros(n)
            for e in topo.in_edges(name):
                s.offered = s.offered + _served(world.st(e.src)) * e.calls
        s.served = _served(s)


def _served(s: CompState) -> np.ndarray:
    return np.asarray(s.offered * (1 - np.clip(s.refused + s.tls + 0.9 * _down_frac(s), 0, 1)))


def _down_frac(s: CompState) -> np.ndarray:
    n = s.refused.size
    alive = np.zeros(n)
    down = np.zeros(n)
    for p in s.pods:
        alive[p.start : p.end] += 1
        down[p.start : p.end] += p.down[p.start : p.end]
    if not s.pods:
        return down
    return np.where(alive > 0, down / np.maximum(alive, 1), 1.0)


def _shift(x: np.ndarray, lag: int) -> np.ndarray:
    if lag <= 0:
        return x
    return np.concatenate([np.full(lag, x[0]), x[:-lag]])


def _erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function (Abramowitz-Stegun 7.1.26), enough for tail shares."""
    z = np.abs(x)
    tt = 1.0 / (1.0 + 0.3275911 * z)
    poly = tt * (
        0.254829592 + tt * (-0.284496736 + tt * (1.421413741 + tt * (-1.453152027 + tt * 1.061405429)))
    )
    r = poly * np.exp(-z * z)
    return np.asarray(np.where(x >= 0, r, 2.0 - r), dtype=float)


def p_exceed(p50: np.ndarray, p99: np.ndarray, limit: float | np.ndarray) -> np.ndarray:
    """P(latency > limit) for a log-normal with the given median and 99th percentile."""
    sigma = np.maximum(np.log(np.maximum(p99, 1e-6) / np.maximum(p50, 1e-6)) / 2.326, 0.05)
    z = (np.log(limit) - np.log(np.maximum(p50, 1e-6))) / sigma
    return np.asarray(0.5 * _erfc(z / math.sqrt(2)))


def propagate(world: World) -> None:
    """Derive served rate, utilisation, latency and errors of every component."""
    topo = world.topo
    _offered_rates_keep(world)
    for name in reversed(topological_order(topo)):
        _settle(world, world.st(name), topo.out_edges(name))


def _offered_rates_keep(world: World) -> None:
    """Recompute offered/served after faults changed reachability, keeping the healthy noise."""
    for name in topological_order(world.topo):
        s = world.st(name)
        c = s.comp
        s.down_frac = _down_frac(s)
        if c.role == "entry":
            s.offered = s.base * s.rate_mult
        elif c.consumes:
            s.offered = world.st(c.consumes).offered * s.base
        else:
            s.offered = np.zeros(world.n)
            for e in world.topo.in_edges(name):
                s.offered = s.offered + _served(world.st(e.src)) * e.calls
        s.served = _served(s)


def _settle(world: World, s: CompState, out: list[Edge]) -> None:
    n = world.n
    s.util = s.idle_cpu + s.served / s.capacity + s.cpu_extra
    rho = np.clip(s.util, 0, 0.97)
    sat_mult = 1 + 0.6 * rho**6 / (1 - rho) + 8.0 * np.clip(s.util - 1.0, 0, 2)
    overload = np.clip((s.util - 1.0) / np.maximum(s.util, 1e-9), 0, 0.9) * 0.8
    own_p50 = s.base_lat * s.lat_mult * sat_mult + s.lat_add
    s.own_p50 = own_p50
    p50 = own_p50.copy()
    tail_add = np.zeros(n)
    shares: dict[str, np.ndarray] = {k: v for k, v in s.own_err.items()}
    shares["overload"] = overload
    s.call_fail = {}
    s.call_slow = {}
    for e in out:
        c = world.st(e.dst)
        lag = e.lag
        delay = _shift(c.net_delay, lag) + s.net_delay
        c50 = _shift(c.p50, lag) + delay
        c99 = _shift(c.p99, lag) + delay + _shift(c.net_tail, lag) + s.net_tail
        limit = np.where(np.arange(n) >= e.low_from, e.low_timeout, e.timeout) if e.low_timeout else e.timeout
        timeout = 1 - (1 - p_exceed(c50, c99, limit)) * (1 - _shift(c.net_timeout, lag))
        fails = {
            "refused": np.clip(_shift(c.refused + 0.9 * c.down_frac, lag), 0, 1),
            "tls": _shift(c.tls, lag),
            "reset": 1 - (1 - _shift(c.reset, lag)) * (1 - s.reset),
            "timeout": timeout,
            "http5xx": _shift(c.err, lag),
        }
        s.call_fail[e.dst] = fails
        s.call_slow[e.dst] = np.clip(p_exceed(c50, c99, limit * 0.5) - timeout, 0, 1)
        if c.comp.kind == "queue":
            continue  # publishing is asynchronous: the caller does not wait on consumers
        p50 = p50 + e.calls * np.minimum(c50, limit)
        tail_add = np.maximum(tail_add, np.minimum(c99, limit) - np.minimum(c50, limit))
        for kind, f in fails.items():
            shares[f"call:{e.dst}:{kind}"] = 1 - (1 - e.prop * np.clip(f, 0, 1)) ** (
                max(e.calls, 1.0) * s.call_amp
            )
    s.p50 = p50 * (1 + world.rng.normal(0, 0.04, n))
    s.p99 = (own_p50 * s.tail + (p50 - own_p50) + tail_add) * (1 + world.rng.normal(0, 0.07, n))
    ok = np.ones(n)
    for f in shares.values():
        ok = ok * (1 - np.clip(f, 0, 1))
    s.err = 1 - ok
    total = sum((np.clip(f, 0, 1) for f in shares.values()), np.zeros(n)) + 1e-12
    s.err_causes = {
        k: s.served * s.err * np.clip(f, 0, 1) / total for k, f in shares.items() if np.any(f > 0)
    }


def rollout(world: World, name: str, tick: int, version: str, per_pod_ticks: int = 1) -> int:
    """Replace the pods of ``name`` by new ones (a Deployment rollout); returns the tick it ends."""
    s = world.st(name)
    old = [p for p in s.pods if p.start <= tick < p.end]
    rs = pod_suffix(world.rng, True).split("-")[0]
    end = tick
    for i, p in enumerate(old):
        at = min(tick + i * per_pod_ticks, world.n - 1)
        new = new_pod(world.rng, s.comp, world.n, at, world.n, version)
        new.name = f"{name}-{rs}-{pod_suffix(world.rng, False)}"
        new.restarts0 = 0
        p.end = min(at + 1, world.n)
        s.pods.append(new)
        startup(world, name, new, at)
        end = at
    s.version = version
    return end + 1


def startup(world: World, name: str, pod: Pod, tick: int) -> None:
    s = world.st(name)
    if s.comp.kind != "service":
        return
    t0 = world.at(tick, world.r.uniform(0, 5))
    for i, line in enumerate(startup_lines(world.r, s.comp.runtime, name, pod.version, s.comp.port)):
        world.events.append(LogEvent(t0 + i * world.r.uniform(0.05, 2.0), name, "INFO", line, pod.name))


def restart(world: World, name: str, pod: Pod, tick: int, down: int, level: str, message: str) -> None:
    """Crash ``pod`` at ``tick`` with ``message``; it is back after ``down`` ticks."""
    if tick >= world.n:
        return
    world.events.append(LogEvent(world.at(tick, world.r.uniform(0, 14)), name, level, message, pod.name))
    pod.down[tick : min(tick + down, world.n)] = True
    pod.restart_ticks.append(tick)
    if tick + down < world.n:
        startup(world, name, pod, tick + down - 1)


def calibrate_timeouts(world: World) -> None:
    """Give every call a client timeout well above the callee's healthy p99, as operators do."""
    propagate(world)
    for e in world.topo.edges:
        c = world.st(e.dst)
        need = 3.0 * float(np.percentile(c.p99 + c.net_delay, 99))
        e.timeout = next(
            (x for x in (1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0) if x >= max(need, e.timeout)), 60.0
        )
