"""Fault injection: each fault word edits the root's inputs so that its signature and its
propagation look like the real thing. ``severity`` (1 = clear, ~0.4 = subtle) scales magnitudes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from day2ai.evaluation.simulator import failures
from day2ai.evaluation.simulator.topology import Topology, has_pool
from day2ai.evaluation.simulator.world import TICK, LogEvent, World, p_exceed, propagate, restart, rollout
from day2ai.models import Fault


@dataclass
class FaultResult:
    detail: str
    remediation: list[str]
    change_tick: int | None = None


def eligible(topo: Topology, fault: Fault) -> list[str]:
    """Components where ``fault`` can sit and still be felt by an entry service."""
    reach = {
        a
        for c in topo.components
        for a in [c.name]
        if any(topo.get(x).role == "entry" for x in [c.name, *topo.ancestors(c.name)])
    }
    out: list[str] = []
    for c in topo.components:
        if c.name not in reach or c.kind == "queue":
            continue
        called = bool(topo.in_edges(c.name))
        svc = c.kind == "service"
        ok = {
            Fault.CPU_SATURATION: (svc or (c.kind == "database" and c.telemetry)),
            Fault.MEMORY_LEAK: svc,
            Fault.DISK_FULL: c.volume and c.telemetry and c.kind in ("service", "database"),
            Fault.NETWORK_DELAY: called and c.kind in ("service", "database", "cache"),
            Fault.PACKET_LOSS: called and c.kind in ("service", "database", "cache"),
            Fault.SERVICE_CRASH: svc and called,
            Fault.CODE_ERROR: svc,
            Fault.BAD_DEPLOY: svc,
            Fault.CONFIG_ERROR: svc,
            Fault.DEPENDENCY_FAILURE: c.kind in ("external", "database", "cache") and called,
            Fault.CONNECTION_POOL_EXHAUSTION: svc and has_pool(topo, c.name),
            Fault.CERTIFICATE_EXPIRY: called and c.kind in ("service", "external"),
            Fault.TRAFFIC_SURGE: c.role == "entry" and bool(topo.out_edges(c.name)),
        }[fault]
        if ok:
            out.append(c.name)
    return out


def _healthy_util(world: World, name: str) -> float:
    s = world.st(name)
    return float(np.percentile(s.idle_cpu + s.served / s.capacity, 90))


def _cpu(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    target = 1.0 + 0.35 * sev * world.r.uniform(0.6, 1.2)
    hog = max(target - _healthy_util(world, root), 0.2)
    s.cpu_extra += hog * world.ramp(k0, world.r.randint(1, 4))
    what = world.r.choice(
        (
            "a runaway regular expression in request validation",
            "an unbounded report export loop",
            "a busy-looping retry in the cache warmer",
            "a noisy neighbour on the node stealing CPU",
        )
    )
    return FaultResult(
        f"{what} pins {root} at its CPU limit; requests queue behind throttled threads", ["scale", "cpu"]
    )


def _memory(world: World, root: str, sev: float) -> FaultResult:
    s, k0, n = world.st(root), world.onset, world.n
    ramp_ticks = int(world.r.uniform(18, 45) * 60 / TICK)
    for i, pod in enumerate(s.pods):
        first_oom = k0 + (0 if i == 0 else world.r.randint(1, 8))
        base = world.r.uniform(0.35, 0.55)
        slope = (1.0 - base) / max(ramp_ticks * world.r.uniform(0.9, 1.15), 1)
        start = first_oom - int((1.0 - base) / slope)
        frac = np.full(n, base)
        k = max(start, 0)
        level = base + slope * max(0, -start)
        while k < n:
            level += slope
            if level >= 1.0:
                down = world.r.randint(2, 4)
                restart(world, root, pod, k, down, "ERROR", failures.oom_line(world.r, s.comp))
                world.events.append(
                    LogEvent(
                        world.at(k, 14.5),
                        root,
                        "WARN",
                        f"Container {root} in pod {pod.name} was OOMKilled (exit code 137); "
                        "back-off restarting",
                        pod.name,
                    )
                )
                s.reset[k] += 0.3 / len(s.pods)
                frac[k : k + down] = base * 0.4
                k += down
                level = base
                continue
            frac[k] = level
            k += 1
        pod.mem = frac
        thrash = np.clip((frac - 0.85) / 0.15, 0, 1) * (1 - pod.down)
        s.lat_mult += thrash * (2 + 6 * sev) / len(s.pods)
        s.cpu_extra += thrash * 0.3 / len(s.pods)
    what = world.r.choice(
        (
            "an unbounded in-process cache of sessions",
            "listeners registered per request and never removed",
            "response buffers retained by a metrics interceptor",
        )
    )
    return FaultResult(
        f"memory leak in {root} ({what}): working set grows until pods are OOMKilled", ["restart", "memory"]
    )


def _disk(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    ramp = int(world.r.uniform(15, 40) * 60 / TICK)
    start_level = float(s.disk[max(k0 - ramp, 0)])
    grow = world.ramp(k0 - ramp, ramp)
    s.disk = np.clip(
        start_level + (0.999 - start_level) * grow + world.rng.normal(0, 0.0008, world.n), 0, 1.0
    )
    s.own_err["enospc"] = world.after(k0) * world.r.uniform(0.25, 0.8) * sev
    s.lat_mult += world.after(k0) * world.r.uniform(0.2, 1.5)
    what = world.r.choice(
        (
            "WAL and temp files from a long-running vacuum",
            "debug log files never rotated",
            "an orphaned upload spool directory",
        )
    )
    return FaultResult(f"volume of {root} filled up ({what}); writes fail with ENOSPC", ["disk"])


def _net_delay(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    d = world.r.uniform(0.08, 0.6) * (0.5 + sev)
    s.net_delay += (
        world.ramp(k0, world.r.randint(1, 3)) * d * (1 + np.abs(world.rng.normal(0, 0.15, world.n)))
    )
    s.net_tail += world.after(k0) * d * 0.8
    # retransmits and SYN retries push a few calls past their callers' deadlines
    s.net_timeout += world.after(k0) * world.r.uniform(0.005, 0.04) * (0.5 + sev)
    return FaultResult(
        f"network path to {root} adds ~{int(d * 1000)} ms per round trip (degraded node NIC / netem)",
        ["network"],
    )


def _loss(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    loss = world.r.uniform(0.03, 0.15) * (0.4 + sev)
    s.reset += world.after(k0) * loss
    s.net_tail += world.after(k0) * world.r.uniform(0.2, 1.0)
    s.net_delay += world.after(k0) * 0.01
    world.notes.setdefault("retrans", {})[root] = world.after(k0) * loss * 400
    for e in world.topo.in_edges(root):
        world.notes["retrans"].setdefault(e.src, world.after(k0) * loss * 40)
    return FaultResult(
        f"{int(loss * 100)}% packet loss on the network interface of {root}: resets and retransmits",
        ["network"],
    )


def _crash(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    flavour = str(world.r.randint(0, 9))
    text = failures.crash_line(world.r, s.comp, flavour)
    backoff = (10, 20, 40, 80, 160, 300, 300, 300)
    share = 1.0 if sev > 0.6 or len(s.pods) == 1 else 0.67
    for i, pod in enumerate(s.pods[: max(1, math.ceil(len(s.pods) * share))]):
        k = k0 + (0 if i == 0 else world.r.randint(0, 2))
        for b in backoff:
            if k >= world.n:
                break
            down = max(1, math.ceil((b + world.r.uniform(3, 12)) / TICK))
            restart(world, root, pod, k, down, "FATAL" if world.r.random() < 0.5 else "ERROR", text)
            k += down + world.r.randint(1, 3)
    return FaultResult(f"{root} crash-loops on start-up ({text.splitlines()[0][:80]})", ["restart"])


def _code(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    s.own_err["code"] = world.ramp(k0, world.r.randint(1, 3)) * world.r.uniform(0.08, 0.5) * sev
    world.notes["flavour"] = str(world.r.randint(0, 99))
    return FaultResult(
        f"latent defect in {root} triggered by new input data; unhandled exception on a hot path", ["fix"]
    )


def _deploy(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    old = s.version
    parts = old.lstrip("v").split(".")
    new = f"v{parts[0]}.{int(parts[1]) + 1}.0"
    td = max(1, k0 - world.r.randint(2, 14))
    done = rollout(world, root, td, new, per_pod_ticks=world.r.randint(1, 2))
    world.onset = done
    on = world.ramp(td, max(done - td, 1))
    if world.r.random() < 0.65:
        s.own_err["deploy"] = on * world.r.uniform(0.1, 0.6) * sev
        kind = "throws on a changed request schema"
    else:
        s.lat_mult += on * world.r.uniform(3, 10) * sev
        s.cpu_extra += on * world.r.uniform(0.1, 0.35)
        s.own_err["deploy"] = on * 0.02 * sev
        kind = "introduced an N+1 query that multiplies latency"
    summary = world.r.choice(
        (
            "switch serializer to v2 schema",
            "refactor pricing client",
            "upgrade web framework",
            "new discount calculation",
            "batch lookups behind interface",
        )
    )
    world.changes.append(
        {
            "timestamp": world.at(td),
            "service": root,
            "kind": "deploy",
            "summary": f"{root} {new}: {summary}",
            "version": new,
            "previous_version": old,
            "author": world.r.choice(("ci-bot", "argocd", "jenkins")),
        }
    )
    world.notes["flavour"] = new
    return FaultResult(f"deploy {new} of {root} {kind}", ["rollback"], change_tick=td)


_TIMEOUTS_MS = (5, 10, 20, 25, 30, 50, 75, 80, 100, 150, 200, 250, 300, 500, 750, 1000, 1500, 2000)


def _fmt_timeout(seconds: float) -> str:
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:.0f}ms"


def _config_timeout(world: World, root: str, sev: float, tc: int) -> FaultResult | None:
    """A client timeout lowered below the healthy latency of a dependency: its calls time out."""
    topo = world.topo
    edges = [e for e in topo.out_edges(root) if topo.get(e.dst).kind != "queue"]
    if not edges:
        return None
    e = edges[world.r.randrange(len(edges))]
    c = world.st(e.dst)
    healthy = slice(0, max(tc, 2))
    c50 = float(np.median(c.p50[healthy] + c.net_delay[healthy]))
    c99 = float(np.median(c.p99[healthy] + c.net_delay[healthy]))
    share = max(world.r.uniform(0.15, 0.6) * sev, 0.08)
    options = [x / 1000 for x in _TIMEOUTS_MS if x / 1000 < e.timeout]
    if not options:
        return None
    exceed = {x: float(p_exceed(np.array([c50]), np.array([c99]), x)[0]) for x in options}
    low = min(options, key=lambda x: abs(exceed[x] - share))
    if exceed[low] < 0.03:
        return None
    e.low_timeout, e.low_from = low, tc + 1
    key = world.r.choice(
        (
            f"{e.dst.split('.')[0].replace('-', '_')}.client.timeout",
            f"{e.dst.split('.')[0].upper().replace('-', '_')}_TIMEOUT_MS",
            f"upstreams.{e.dst}.timeout",
        )
    )
    old, new = _fmt_timeout(e.timeout), _fmt_timeout(low)
    summary = world.r.choice(
        (f"update {root} ConfigMap ({key}: {old} -> {new})", f"update {root} ConfigMap (timeouts)")
    )
    world.changes.append(
        {
            "timestamp": world.at(tc, 3),
            "service": root,
            "kind": "config",
            "summary": summary,
            "author": world.r.choice(("carol", "dave", "argocd")),
        }
    )
    msg = f"configuration reloaded from /etc/{root}/config.yaml (sha256 {failures.hexs_fixed(root + 'c')}...)"
    for pod in world.st(root).pods:
        world.events.append(LogEvent(world.at(tc, world.r.uniform(8, 14)), root, "INFO", msg, pod.name))
    return FaultResult(
        f"a ConfigMap change lowered the {e.dst} client timeout of {root} from {old} to {new}; "
        f"calls to the healthy {e.dst} time out",
        ["config", "timeout"],
        change_tick=tc,
    )


def _config(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    tc = max(0, k0 - world.r.randint(0, 3))
    v = world.r.random()
    on = world.after(tc + 1)
    world.onset = tc + 1
    if 0.3 <= v < 0.65:
        res = _config_timeout(world, root, sev, tc)
        if res is not None:
            return res
    flag = v < 0.3
    if flag:
        name = world.r.choice(
            ("new-checkout-flow", "pricing-engine-v2", "async-inventory-check", "smart-retries")
        )
        s.own_err["flag"] = on * world.r.uniform(0.1, 0.6) * sev
        world.changes.append(
            {
                "timestamp": world.at(tc, 7),
                "service": root,
                "kind": "feature_flag",
                "summary": f"enable flag '{name}' for 100% of traffic in {root}",
                "author": world.r.choice(("alice", "bob", "launchdarkly")),
            }
        )
        msg, what = f"feature flag '{name}' changed: false -> true", f"enabling feature flag '{name}'"
    else:
        s.own_err["config"] = on * world.r.uniform(0.15, 0.8) * sev
        world.changes.append(
            {
                "timestamp": world.at(tc, 3),
                "service": root,
                "kind": "config",
                "summary": f"update {root} ConfigMap "
                f"({world.r.choice(('timeouts', 'rate limits', 'region mapping'))})",
                "author": world.r.choice(("carol", "dave", "argocd")),
            }
        )
        msg, what = (
            f"configuration reloaded from /etc/{root}/config.yaml "
            f"(sha256 {failures.hexs_fixed(root + 'c')}...)",
            "a ConfigMap change with an invalid value",
        )
    for pod in s.pods:
        world.events.append(LogEvent(world.at(tc, world.r.uniform(8, 14)), root, "INFO", msg, pod.name))
    world.notes["flavour"] = "cfg"
    return FaultResult(f"{what} breaks request handling in {root}", ["config"], change_tick=tc)


def _dependency(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    on = world.ramp(k0, world.r.randint(1, 3))
    v = world.r.random()
    if s.comp.kind == "external":
        if v < 0.5:
            s.own_err["provider"] = on * world.r.uniform(0.3, 0.95) * sev
            world.notes["callee_text"] = {root: "503 Service Unavailable"}
            what = "returns 503 for most requests"
        else:
            s.lat_mult += on * world.r.uniform(15, 60) * sev
            what = "responds very slowly (multi-second latency)"
    elif v < 0.4:
        s.lat_mult += on * world.r.uniform(8, 40) * sev
        s.cpu_extra += on * 0.1
        what = "is slow: lock contention on a hot table" if s.comp.kind == "database" else "is slow to answer"
    else:
        cause = {"database": "readonly" if v < 0.7 else "too_many_clients", "cache": "loading"}[s.comp.kind]
        s.own_err[cause] = on * world.r.uniform(0.3, 0.9) * sev
        s.refused += world.after(k0) * (world.after(k0 + 4) < 1) * 0.6
        what = {
            "readonly": "failed over; the new primary is still read-only",
            "too_many_clients": "rejects connections (max connections reached)",
            "loading": "restarted and is loading its dataset",
        }[cause]
    return FaultResult(f"dependency {root} {what}", [root])


def _pool(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    on = world.ramp(k0, world.r.randint(2, 6))
    s.conn_floor = on * s.conns_max
    wait = world.r.choice((5.0, 10.0, 30.0))
    s.lat_add += on * wait * world.r.uniform(0.2, 0.6) * (0.5 + sev / 2)
    s.own_err["pool"] = on * world.r.uniform(0.1, 0.6) * sev
    return FaultResult(
        f"connection leak in {root}: connections not returned to the pool on an error path; "
        f"requests wait up to {int(wait)} s for a connection",
        ["pool"],
    )


def _cert(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    s.tls += world.after(k0) * world.r.uniform(0.92, 1.0)
    for e in world.topo.in_edges(root):
        e.tls = True
    world.notes["cert_expiry"] = world.at(k0)
    return FaultResult(
        f"TLS certificate served by {root} expired; cert-manager renewal had been failing", ["certificate"]
    )


def _surge(world: World, root: str, sev: float) -> FaultResult:
    s, k0 = world.st(root), world.onset
    down = [x.name for x in world.topo.components if root in world.topo.ancestors(x.name)]
    ramp = world.ramp(k0, world.r.randint(1, 4))
    factor = 2.0 * world.r.uniform(1.0, 1.2)
    need = 1.0 + 0.15 * sev
    for _ in range(10):  # raise the surge until something downstream saturates
        s.rate_mult = 1 + (factor - 1) * ramp
        propagate(world)
        if max((float(np.max(world.st(d).util[k0:])) for d in down), default=2.0) >= need:
            break
        factor *= 1.3
    s.own_err["ratelimit"] = world.after(k0) * 0.02
    why = world.r.choice(
        (
            "a marketing push notification",
            "a scraping bot from 203.0.113.0/24",
            "a partner's batch import hitting the public API",
            "a retry storm from the mobile app",
        )
    )
    return FaultResult(
        f"{why} drove ~{factor:.1f}x normal traffic into {root}, saturating downstream capacity", ["scale"]
    )


INJECT: dict[Fault, Callable[[World, str, float], FaultResult]] = {
    Fault.CPU_SATURATION: _cpu,
    Fault.MEMORY_LEAK: _memory,
    Fault.DISK_FULL: _disk,
    Fault.NETWORK_DELAY: _net_delay,
    Fault.PACKET_LOSS: _loss,
    Fault.SERVICE_CRASH: _crash,
    Fault.CODE_ERROR: _code,
    Fault.BAD_DEPLOY: _deploy,
    Fault.CONFIG_ERROR: _config,
    Fault.DEPENDENCY_FAILURE: _dependency,
    Fault.CONNECTION_POOL_EXHAUSTION: _pool,
    Fault.CERTIFICATE_EXPIRY: _cert,
    Fault.TRAFFIC_SURGE: _surge,
}


def inject(world: World, fault: Fault, root: str, severity: float) -> FaultResult:
    return INJECT[fault](world, root, severity)
