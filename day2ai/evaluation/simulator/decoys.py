"""Decoys a careless investigator falls for, and the background change log.

Decoys never touch the root; they add real-looking anomalies elsewhere: a deploy shortly
before the onset, a CPU spike from a batch job, a service already erroring before the incident,
a loud victim upstream of the root that logs more errors than the root, a pod eviction.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from day2ai.evaluation.simulator.topology import Topology
from day2ai.evaluation.simulator.world import TICK, LogEvent, World, restart, rollout
from day2ai.models import Fault


def _services(topo: Topology, exclude: str) -> list[str]:
    return [c.name for c in topo.components if c.kind == "service" and c.name != exclude]


def _bump(version: str, minor: bool) -> str:
    parts = version.lstrip("v").split(".")
    if minor:
        return f"v{parts[0]}.{int(parts[1]) + 1}.0"
    return f"v{parts[0]}.{parts[1]}.{int(parts[2]) + 1}"


def _deploy(world: World, svc: str, tick: int, blip: bool) -> None:
    s = world.st(svc)
    new = _bump(s.version, world.r.random() < 0.5)
    old = s.version
    end = rollout(world, svc, tick, new, per_pod_ticks=1)
    if blip:
        s.lat_mult[tick : end + 1] += world.r.uniform(0.1, 0.5)
    world.changes.append(
        {
            "timestamp": world.at(tick, world.r.uniform(0, 10)),
            "service": svc,
            "kind": "deploy",
            "summary": f"{svc} {new}: {world.r.choice(_DEPLOY_SUMMARIES)}",
            "version": new,
            "previous_version": old,
            "author": world.r.choice(("ci-bot", "argocd", "jenkins")),
        }
    )


_DEPLOY_SUMMARIES = (
    "bump dependencies",
    "add tracing to outbound calls",
    "fix typo in error message",
    "refactor handler registration",
    "tune GC settings",
    "update translations",
    "add index on created_at",
    "log request ids",
)


def unrelated_deploy(world: World, root: str) -> None:
    near = [a for a in world.topo.ancestors(root) if world.topo.get(a).kind == "service"]
    pool = near if near and world.r.random() < 0.6 else _services(world.topo, root)
    svc = pool[world.r.randrange(len(pool))]
    tick = max(1, world.onset - world.r.randint(1, int(10 * 60 / TICK)))
    _deploy(world, svc, tick, blip=True)


def batch_cpu(world: World, root: str) -> None:
    pool = _services(world.topo, root)
    svc = pool[world.r.randrange(len(pool))]
    s = world.st(svc)
    start = max(0, world.onset - world.r.randint(2, 20))
    end = min(world.n, start + world.r.randint(20, 60))
    hog = world.r.uniform(0.4, 0.75)
    s.cpu_extra[start:end] += hog
    s.lat_mult[start:end] += world.r.uniform(0.05, 0.3)
    job = world.r.choice(
        ("reindex-products", "nightly-export", "recompute-recommendations", "backfill-ledger")
    )
    pod = s.pods[0]
    world.events.append(
        LogEvent(world.at(start, 2), svc, "INFO", f"batch job '{job}' started (partitions=64)", pod.name)
    )
    if end < world.n:
        world.events.append(
            LogEvent(
                world.at(end, 3),
                svc,
                "INFO",
                f"batch job '{job}' finished in {(end - start) * TICK:.0f}s",
                pod.name,
            )
        )


def pre_existing_errors(world: World, root: str) -> None:
    pool = _services(world.topo, root)
    svc = pool[world.r.randrange(len(pool))]
    s = world.st(svc)
    start = 0 if world.r.random() < 0.6 else max(0, world.onset - world.r.randint(20, 80))
    level = world.r.uniform(0.02, 0.15)
    arr = s.own_err.get("chronic", world.after(0) * 0)
    arr[start:] += level
    s.own_err["chronic"] = arr
    s.log_err_mult *= world.r.uniform(1.5, 4.0)


def loud_victim(world: World, root: str) -> None:
    ups = [a for a in world.topo.ancestors(root) if world.topo.get(a).kind == "service"]
    if not ups:
        pre_existing_errors(world, root)
        return
    non_entry = [a for a in ups if world.topo.get(a).role != "entry"]
    svc = (non_entry or ups)[world.r.randrange(len(non_entry or ups))]
    s = world.st(svc)
    s.log_err_mult *= world.r.uniform(2.5, 5.0)
    s.verbosity *= 1.5
    s.call_amp = world.r.uniform(1.5, 4.0)  # retries fan out: every attempt fails and is logged
    for e in world.topo.out_edges(svc):
        e.prop = max(e.prop, 0.97)
    # it logs 2-30x the root's own error lines (log-uniform), when the root logs errors at all
    world.notes["loud"] = (svc, root, math.exp(world.r.uniform(math.log(2), math.log(30))))


def pod_eviction(world: World, root: str) -> None:
    pool = _services(world.topo, root)
    svc = pool[world.r.randrange(len(pool))]
    s = world.st(svc)
    pod = s.pods[world.r.randrange(len(s.pods))]
    tick = min(world.n - 1, max(1, world.onset + world.r.randint(-25, 10)))
    if pod.start <= tick < pod.end:
        reason = world.r.choice(
            (
                "The node was low on resource: memory.",
                "The node had condition: [DiskPressure].",
                "Preempted by a higher-priority pod.",
            )
        )
        restart(world, svc, pod, tick, world.r.randint(2, 4), "WARN", f"Pod {pod.name} evicted: {reason}")


DECOY_FUNCS: dict[str, Callable[[World, str], None]] = {
    "unrelated_deploy": unrelated_deploy,
    "batch_cpu": batch_cpu,
    "pre_existing_errors": pre_existing_errors,
    "loud_victim": loud_victim,
    "pod_eviction": pod_eviction,
}


def background_changes(world: World, root: str, fault: Fault) -> None:
    """Routine changes: deploys, scaling, config and infra work, before and during the window."""
    services = _services(world.topo, root)
    k0 = world.onset
    for _ in range(world.r.randint(2, 7)):
        svc = services[world.r.randrange(len(services))]
        tick = world.r.randint(-240, world.n - 1)
        if abs(tick - k0) < 50 and world.r.random() < 0.7:
            tick = world.r.randint(-240, max(k0 - 50, -200))
        kind = world.r.choice(("deploy", "deploy", "scale", "config", "feature_flag", "infra"))
        if kind == "deploy" and 0 < tick < world.n:
            _deploy(world, svc, tick, blip=False)
            continue
        when = world.at(tick, world.r.uniform(0, 14))
        extra: dict[str, str] = {}
        if kind == "deploy":
            old = world.st(svc).version
            new = _bump(old, False)
            world.st(svc).version = new
            for pod in world.st(svc).pods:
                pod.version = new
            summary = f"{svc} {new}: {world.r.choice(_DEPLOY_SUMMARIES)}"
            extra = {"version": new, "previous_version": old}
        elif kind == "scale":
            a = world.r.randint(2, 5)
            summary = (
                f"HorizontalPodAutoscaler {svc}: scaled from {a} to {a + world.r.choice((-1, 1, 2))} replicas"
            )
        elif kind == "config":
            what = world.r.choice(("log level INFO", "raise cache ttl", "new allowed origin"))
            summary = f"update {svc} ConfigMap: {what}"
        elif kind == "feature_flag":
            flag = world.r.choice(("dark-mode", "new-search-ranking", "promo-banner"))
            summary = f"flag '{flag}' set to {world.r.randint(5, 50)}% in {svc}"
        else:
            summary = world.r.choice(
                (
                    "node pool upgrade to 1.29.4 (surge 1)",
                    "rotate ingress TLS certificates",
                    "resize monitoring PVC",
                    "patch base image for CVE-2026-1042",
                )
            )
        entry = {
            "timestamp": when,
            "service": svc,
            "kind": kind,
            "summary": summary,
            **extra,
            "author": world.r.choice(("alice", "bob", "carol", "ci-bot", "terraform")),
        }
        world.changes.append(entry)
    if fault is Fault.TRAFFIC_SURGE and k0 + 4 < world.n:
        a = len(world.st(root).pods)
        world.changes.append(
            {
                "timestamp": world.at(k0 + world.r.randint(3, 8), 5),
                "service": root,
                "kind": "scale",
                "summary": f"HorizontalPodAutoscaler {root}: scaled from {a} to {a * 2} replicas "
                "(cpu utilization above target)",
                "author": "kube-controller-manager",
            }
        )
