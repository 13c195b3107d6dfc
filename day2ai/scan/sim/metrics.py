"""Simulated metric series of an ops history: daily and weekly load cycles everywhere, planted
trends, and decoys (flat-but-high disks, weekly sawtooth disks, one-day incident spikes, bursty
CPU, slow growth far from the horizon)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from day2ai.scan.sim.plan import Plan

DAY = 86400.0
DISK_CAPACITY = 500 * 2.0**30


def _load(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Relative load: a daily cycle peaking mid-afternoon, quieter weekends, 5% noise (about 1)."""
    hours = (t % DAY) / 3600.0
    dow = np.floor(t / DAY + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    daily = 1.0 + 0.45 * np.sin((hours - 9.0) / 24.0 * 2 * np.pi)
    weekly = np.where(dow >= 5, 0.7, 1.0)
    return daily * weekly * rng.lognormal(0.0, 0.05, t.size)


def _scale_to(values: np.ndarray, target: float, q: float) -> np.ndarray:
    return values * (target / float(np.percentile(values, q)))


def _item(name: str, labels: dict[str, str], t: np.ndarray, v: np.ndarray) -> dict[str, Any]:
    return {"metric": {"__name__": name, **labels}, "values": np.column_stack((t, np.round(v, 6)))}


def _usage(plan: Plan, s: str, t: np.ndarray, load: np.ndarray, rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    reps, cpu_req, mem_req = plan.replicas[s], plan.cpu_request[s], plan.mem_request[s]
    if s in plan.role("idle"):
        rps = np.zeros(t.size)
        cpu = rng.uniform(0.001, 0.004, t.size) * reps
        mem = _scale_to(0.9 + 0.1 * rng.random(t.size), 0.2 * mem_req * reps, 100)
    else:
        base = float(rng.uniform(5, 200))
        rps = base * load
        if s in plan.role("overprovisioned"):
            cpu_ratio, mem_ratio = rng.uniform(0.08, 0.3), rng.uniform(0.12, 0.35)
        else:
            cpu_ratio, mem_ratio = rng.uniform(0.55, 0.9), rng.uniform(0.6, 0.9)
        if s in plan.role("bursty"):  # low mean, bursts 20% of the time: p95 is high, the mean is not
            burst = np.repeat(rng.random(t.size // 12 + 1) < 0.2, 12)[: t.size]
            shape = np.where(burst, 1.0, 0.1) * rng.lognormal(0, 0.05, t.size)
            cpu = _scale_to(shape, cpu_ratio * cpu_req * reps, 95)
        else:
            cpu = _scale_to(load, cpu_ratio * cpu_req * reps, 95)
        mem_shape = 0.8 + 0.2 * load / load.max()
        mem = _scale_to(mem_shape, mem_ratio * mem_req * reps, 100)
    yield _item("request_rate", {"service": s}, t, rps)
    yield _item("cpu_usage_cores", {"service": s}, t, cpu)
    if s in plan.role("memory_leak") or s in plan.role("memory_sawtooth"):
        yield from _pod_memory(plan, s, t, rng)
    else:
        yield _item("memory_working_set_bytes", {"service": s}, t, mem)


def _pod_memory(plan: Plan, s: str, t: np.ndarray, rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """Per-pod working sets with a limit: a leak that reaches it soon, or a daily restart sawtooth."""
    limit = plan.mem_request[s]
    days = (t - plan.start) / DAY
    eta = rng.uniform(3.0, 10.0)
    for i in range(plan.replicas[s]):
        labels = {"service": s, "pod": f"{s}-{i}"}
        if s in plan.role("memory_leak"):
            frac = 0.4 + 0.6 * days / (plan.days + eta) + rng.normal(0, 0.003, t.size)
        else:
            since_restart = ((t - 4 * 3600) % DAY) / DAY  # restarted every day at 04:00 UTC
            frac = 0.3 + 0.55 * since_restart + rng.normal(0, 0.003, t.size)
        yield _item("memory_working_set_bytes", labels, t, frac * limit)
        yield _item("memory_limit_bytes", labels, t, np.full(t.size, limit))


def _connections(plan: Plan, s: str, t: np.ndarray, rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    days = (t - plan.start) / DAY
    load = 1 + 0.1 * np.sin((t % DAY) / DAY * 2 * np.pi)
    if s in plan.role("conn_growth"):
        used = (30 + 70 * days / (plan.days + rng.uniform(3.0, 10.0))) * load
    else:
        used = np.where(days >= plan.days * 0.6, 70.0, 40.0) * load
    labels = {"service": s, "pool": "primary"}
    yield _item("connections_in_use", labels, t, np.minimum(used + rng.normal(0, 0.5, t.size), 100))
    yield _item("connections_max", labels, t, np.full(t.size, 100.0))


def _disk(plan: Plan, s: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    days = (t - plan.start) / DAY
    wiggle = 0.005 * np.sin(days * 2 * np.pi) + rng.normal(0, 0.002, t.size)
    if s in plan.role("capacity"):
        f0 = rng.uniform(0.35, 0.6)
        eta = rng.uniform(2.0, 11.0)  # days after the end of the period
        frac = f0 + (1.0 - f0) * days / (plan.days + eta)
        weekly = 0.01 * np.sin(days / 7 * 2 * np.pi)
        return (frac + weekly + wiggle) * DISK_CAPACITY
    if s in plan.role("disk_flat_high"):
        return (rng.uniform(0.9, 0.95) + wiggle) * DISK_CAPACITY
    if s in plan.role("disk_seasonal"):  # batch data fills the disk during the week, cleaned at weekends
        dow = np.floor(t / DAY + 3) % 7
        frac = np.where(dow >= 5, 0.5, 0.55 + 0.06 * (dow + (t % DAY) / DAY))
        return (frac + wiggle) * DISK_CAPACITY
    if s in plan.role("disk_step"):  # one day of an incident fills the disk, then it is cleaned
        day = int(rng.integers(plan.days - 10, plan.days - 2))
        frac = np.where(np.floor(days) == day, 0.97, rng.uniform(0.55, 0.7))
        return (frac + wiggle) * DISK_CAPACITY
    if s in plan.role("disk_slow"):  # grows, but would need months to fill
        return (0.5 + 0.15 * days / plan.days + wiggle) * DISK_CAPACITY
    return (rng.uniform(0.3, 0.7) + wiggle) * DISK_CAPACITY


def _client(plan: Plan, a: str, b: str, t: np.ndarray, load: np.ndarray,
            rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    days = (t - plan.start) / DAY
    base = float(rng.uniform(0.05, 0.3))
    lat = base * (0.8 + 0.2 * load) * rng.lognormal(0, 0.08, t.size)
    err = np.clip(rng.uniform(0.0005, 0.003) * rng.lognormal(0, 0.3, t.size), 0, 1)
    if (a, b) in plan.edges["degrading"]:
        if rng.random() < 0.5:
            lat = lat * (1.0 + rng.uniform(1.0, 2.0) * days / plan.days)
        else:
            err = err + rng.uniform(0.03, 0.06) * days / plan.days
    if (a, b) in plan.edges["dep_step"]:
        day = int(rng.integers(plan.days // 2, plan.days - 1))
        hit = np.floor(days) == day
        lat, err = np.where(hit, lat * 5, lat), np.where(hit, 0.2, err)
    labels = {"service": a, "peer": b}
    yield _item("client_latency_p99_seconds", labels, t, lat)
    yield _item("client_error_ratio", labels, t, err)


def metric_items(plan: Plan) -> Iterator[dict[str, Any]]:
    """Every series of the history, one range-query item at a time."""
    rng = np.random.default_rng(plan.seed + 1)
    t = plan.start + np.arange(0, plan.days * DAY, plan.step, dtype=np.float64)
    disk_services = {s for role, svcs in plan.roles.items() if role == "capacity" or role.startswith("disk_")
                     for s in svcs}
    for s in plan.names:
        load = _load(t, rng)
        yield from _usage(plan, s, t, load, rng)
        if s in disk_services:
            labels = {"service": s, "volume": "data"}
            yield _item("disk_used_bytes", labels, t, _disk(plan, s, t, rng))
            yield _item("disk_capacity_bytes", labels, t, np.full(t.size, DISK_CAPACITY))
        if s in plan.role("conn_growth") or s in plan.role("conn_step"):
            yield from _connections(plan, s, t, rng)
        for peer in plan.depends_on[s]:
            yield from _client(plan, s, peer, t, load, rng)
