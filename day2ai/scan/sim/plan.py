"""What a simulated ops history contains: its services and which of them carry planted findings or
decoys. Roles are drawn at random per seed; every family has decoys that a naive scan would flag."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

NAMES = ("checkout", "payments", "orders", "orders-db", "cart", "catalog", "search", "users", "auth", "shipping",
         "inventory", "pricing", "reviews", "notifications", "email", "recommendations", "gateway", "ledger",
         "fraud", "media", "sessions", "billing", "invoices", "coupons", "wishlist", "ratings", "geo", "tax",
         "currency", "assets")
FAULTS = ("connection_pool_exhaustion", "memory_leak", "cpu_saturation", "bad_deploy", "config_error",
          "disk_full", "network_partition", "dependency_timeout", "certificate_expiry", "dns_failure")


@dataclass
class Plan:
    seed: int
    days: int
    step: int
    start: float
    names: list[str]
    tiers: dict[str, int]
    replicas: dict[str, int]
    cpu_request: dict[str, float]
    mem_request: dict[str, float]
    depends_on: dict[str, list[str]]
    roles: dict[str, list[str]] = field(default_factory=dict)  # role -> services
    edges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # role -> (caller, peer)
    truth: list[dict[str, Any]] = field(default_factory=list)

    @property
    def end(self) -> float:
        return self.start + self.days * 86400.0

    def role(self, name: str) -> list[str]:
        return self.roles.get(name, [])


def make_plan(seed: int, services: int = 12, days: int = 42, step: int = 300,
              start: float = 1767225600.0) -> Plan:  # 2026-01-01T00:00:00Z
    if services < 12:
        raise ValueError("a simulated history needs at least 12 services to hold every planted role")
    rng = np.random.default_rng(seed)
    names = list(NAMES[:services]) + [f"svc-{i}" for i in range(len(NAMES), services)]
    plan = Plan(
        seed=seed, days=days, step=step, start=start, names=names,
        tiers={n: int(rng.integers(1, 4)) for n in names},
        replicas={n: int(rng.integers(2, 7)) for n in names},
        cpu_request={n: float(rng.choice([0.25, 0.5, 1.0, 2.0])) for n in names},
        mem_request={n: float(rng.choice([0.5, 1.0, 2.0, 4.0])) * 2**30 for n in names},
        depends_on={})
    # metric roles are exclusive (one usage shape per service)
    perm = [str(x) for x in rng.permutation(names)]
    # memory_leak: per-pod working sets grow into their limit; memory_sawtooth: daily restarts (a decoy)
    metric_roles = (("idle", 1), ("overprovisioned", 2), ("bursty", 1), ("memory_leak", 1), ("memory_sawtooth", 1))
    i = 0
    for role, k in metric_roles:
        plan.roles[role] = perm[i:i + k]
        i += k
    # disk roles are exclusive among themselves (one volume per service)
    perm = [str(x) for x in rng.permutation(names)]
    i = 0
    for role, k in (("capacity", 2), ("disk_flat_high", 1), ("disk_seasonal", 1), ("disk_step", 1),
                    ("disk_slow", 1), ("disk_normal", 2)):
        plan.roles[role] = perm[i:i + k]
        i += k
    perm = [str(x) for x in rng.permutation([n for n in names if n not in plan.role("idle")])]
    plan.roles["conn_growth"], plan.roles["conn_step"] = perm[:1], perm[1:2]  # a pool filling up; a level shift
    idle = set(plan.role("idle"))
    for n in names:  # nobody calls the idle service, and it calls nobody
        cands = [m for m in names if m != n and m not in idle]
        plan.depends_on[n] = [] if n in idle else sorted(str(x) for x in rng.choice(cands, 2, replace=False))
    edges = [(a, b) for a in names for b in plan.depends_on[a]]
    order = rng.permutation(len(edges))
    callers: set[str] = set()
    picked: list[tuple[str, str]] = []
    for j in order:
        a, b = edges[int(j)]
        if a not in callers:
            picked.append((a, b))
            callers.add(a)
        if len(picked) == 3:
            break
    plan.edges = {"degrading": picked[:2], "dep_step": picked[2:3]}
    for role, k in (("drift", 1), ("drift_security", 1), ("gap", 2), ("noisy", 1), ("flapping", 1),
                    ("alert_acked_often", 1), ("alert_rare", 1), ("automation", 2), ("stale_runbook", 1),
                    ("stale_metric", 1), ("pm_overdue", 1), ("pm_recurrence", 1), ("pm_done", 1)):
        plan.roles[role] = [str(x) for x in rng.choice(names, k, replace=False)]
    # distinct services for the incident roles, so clusters never merge by accident
    perm = [str(x) for x in rng.permutation(names)]
    plan.roles["automation"], plan.roles["pm_recurrence"] = perm[:2], perm[2:3]
    plan.roles["pm_overdue"], plan.roles["pm_done"] = perm[3:4], perm[4:5]
    _truth(plan)
    return plan


def _truth(plan: Plan) -> None:
    t = plan.truth
    for role, resource in (("capacity", "disk"), ("memory_leak", "memory"), ("conn_growth", "connections")):
        t += [{"kind": "capacity_exhaustion", "service": s, "resource": resource} for s in plan.role(role)]
    for a, b in plan.edges["degrading"]:
        t.append({"kind": "degrading_dependency", "service": a, "peer": b})
    t += [{"kind": "overprovisioned", "service": s} for s in plan.role("overprovisioned")]
    t += [{"kind": "idle_resource", "service": s} for s in plan.role("idle")]
    for s in plan.role("drift"):
        t.append({"kind": "config_drift", "service": s, "object": f"Deployment/shop/{s}", "security": False})
    for s in plan.role("drift_security"):
        if s in plan.role("drift"):
            t[-1]["security"] = True
            continue
        t.append({"kind": "config_drift", "service": s, "object": f"Deployment/shop/{s}", "security": True})
    t += [{"kind": "observability_gap", "service": s} for s in plan.role("gap")]
    for role in ("noisy", "flapping"):
        t += [{"kind": "noisy_alert", "service": s, "alert": f"{_camel(s)}{role.title()}"} for s in plan.role(role)]
    t += [{"kind": "automation_candidate", "service": s} for s in plan.role("automation")]
    stale = dict.fromkeys(plan.role("stale_runbook") + plan.role("stale_metric"))
    t += [{"kind": "stale_runbook", "service": s} for s in stale]
    pm = dict.fromkeys(plan.role("pm_overdue") + plan.role("pm_recurrence"))
    t += [{"kind": "postmortem_followup", "service": s} for s in pm]


def _camel(name: str) -> str:
    return "".join(p.title() for p in name.replace("_", "-").split("-"))


def alert_name(service: str, role: str) -> str:
    return f"{_camel(service)}{role.title().replace('_', '')}"
