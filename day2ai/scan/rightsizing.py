"""Right-sizing and idle workloads (pure), following Robusta KRR's "simple" strategy.

Per replica, the CPU a service needs is the **95th percentile** of its CPU usage and the memory it
needs is its **maximum** working set **+ 15%** (KRR's defaults: percentiles, never means, so a
bursty service keeps its bursts). Usage series with a ``pod`` label are per replica; a series
without one is the service's total, divided by its replicas. Recommendations never go below KRR's
floors (10 millicores, 100 MiB).

- ``overprovisioned``: a request is at least :data:`OVER_FACTOR` (2x) the recommendation, i.e. at
  its busiest the service uses less than half of what it reserves, and the saving is at least
  :data:`MIN_SAVINGS` a month (below that a resize is not worth a change).
- ``idle_resource``: the service's ``request_rate`` never exceeds :data:`IDLE_RPS` over the period (without
  that series: no service depends on it or calls it, and its *maximum* CPU is under the floor, so a
  rarely running job is not idle) and
  its CPU p95 per replica is under the 10-millicore floor; the saving is everything it requests.

Monthly cost = requests x replicas x site price x 730 h (OpenCost's conventions and default prices).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from day2ai.models import Remediation
from day2ai.scan.common import GIB, HOURS_PER_MONTH, fmt_bytes
from day2ai.scan.models import Finding, FindingEvidence
from day2ai.sources.history import Series, ServiceSpec, Site

CPU_PERCENTILE = 95.0
MEMORY_MARGIN = 0.15
CPU_FLOOR = 0.01  # cores
MEMORY_FLOOR = 100 * 1024 * 1024  # bytes
OVER_FACTOR = 2.0
MIN_SAVINGS = 1.0  # USD per month
IDLE_RPS = 0.001  # requests per second: fewer than one request every ~17 minutes


def _per_replica(group: list[Series], replicas: int, start: float, end: float) -> np.ndarray:
    values = []
    for s in group:
        keep = (s.t >= start) & (s.t < end) & np.isfinite(s.v)
        v = s.v[keep]
        values.append(v if "pod" in s.labels else v / max(replicas, 1))
    return np.concatenate(values) if values else np.empty(0)


def _usage(series: list[Series], site: Site) -> dict[str, dict[str, list[Series]]]:
    out: dict[str, dict[str, list[Series]]] = defaultdict(lambda: defaultdict(list))
    for s in series:
        if s.name in ("cpu_usage_cores", "memory_working_set_bytes", "request_rate"):
            out[s.service][s.name].append(s)
    return out


def _monthly(cpu: float, mem: float, replicas: int, site: Site) -> float:
    return replicas * HOURS_PER_MONTH * (cpu * site.prices.cpu_core_hour + mem / GIB * site.prices.memory_gib_hour)


def rightsizing_findings(series: list[Series], site: Site) -> list[Finding]:
    usage = _usage(series, site)
    start, end = site.period.start, site.period.end
    # without a request_rate series, "no traffic" means nobody declares or calls it as a dependency
    called = {d for s in site.services for d in s.depends_on} | {s.labels["peer"] for s in series if "peer" in s.labels}
    out: list[Finding] = []
    for spec in site.services:
        res = spec.resources
        if res is None or spec.name not in usage:
            continue
        groups = usage[spec.name]
        cpu = _per_replica(groups.get("cpu_usage_cores", []), res.replicas, start, end)
        mem = _per_replica(groups.get("memory_working_set_bytes", []), res.replicas, start, end)
        rps = np.concatenate([s.v[(s.t >= start) & (s.t < end) & np.isfinite(s.v)]
                              for s in groups.get("request_rate", [])] or [np.empty(0)])
        cpu_req = res.cpu_request_cores or 0.0
        mem_req = res.memory_request_bytes or 0.0
        cpu_p95 = float(np.percentile(cpu, CPU_PERCENTILE)) if cpu.size else None
        # with request_rate: no requests and p95 CPU under the floor; without it (a worker, a cron job?)
        # nobody may call it and even its busiest moment must stay under the floor
        quiet = float(rps.max()) <= IDLE_RPS if rps.size else spec.name not in called
        busiest = cpu_p95 if rps.size else (float(cpu.max()) if cpu.size else None)
        if quiet and busiest is not None and busiest < CPU_FLOOR and cpu_p95 is not None:
            out.append(_idle(spec, site, float(rps.max()) if rps.size else None, cpu_p95, cpu_req, mem_req))
            continue
        rec_cpu = max(cpu_p95, CPU_FLOOR) if cpu_p95 is not None else None
        rec_mem = max(float(mem.max()) * (1 + MEMORY_MARGIN), MEMORY_FLOOR) if mem.size else None
        savings: dict[str, float] = {}
        if rec_cpu is not None and cpu_req >= OVER_FACTOR * rec_cpu:
            savings["cpu"] = _monthly(cpu_req - rec_cpu, 0.0, res.replicas, site)
        if rec_mem is not None and mem_req >= OVER_FACTOR * rec_mem:
            savings["memory"] = _monthly(0.0, mem_req - rec_mem, res.replicas, site)
        total = sum(savings.values())
        if not savings or total < MIN_SAVINGS:
            continue
        out.append(_over(spec, savings, rec_cpu, rec_mem, cpu_req, mem_req))
    return out


def _over(spec: ServiceSpec, savings: dict[str, float], rec_cpu: float | None, rec_mem: float | None,
          cpu_req: float, mem_req: float) -> Finding:
    resource = max(savings, key=lambda k: savings[k])
    recommended: dict[str, float] = {}
    parts, evidence = [], []
    if "cpu" in savings and rec_cpu is not None:
        recommended["cpu_request_cores"] = round(rec_cpu, 3)
        parts.append(f"CPU {cpu_req:g} -> {rec_cpu:.3g} cores")
        evidence.append(FindingEvidence(source="metrics", summary=(
            f"cpu_usage_cores p95 per replica {rec_cpu:.3g} cores vs request {cpu_req:g}")))
    if "memory" in savings and rec_mem is not None:
        recommended["memory_request_bytes"] = float(round(rec_mem))
        parts.append(f"memory {fmt_bytes(mem_req)} -> {fmt_bytes(rec_mem)}")
        evidence.append(FindingEvidence(source="metrics", summary=(
            f"memory_working_set_bytes max per replica +15% = {fmt_bytes(rec_mem)} vs request {fmt_bytes(mem_req)}")))
    total = round(sum(savings.values()), 2)
    action = f"resize {spec.name} requests: " + "; ".join(parts)
    return Finding(
        kind="overprovisioned", service=spec.name, severity="medium" if total >= 100 else "low",
        summary=f"{spec.name} requests far more than it uses at its busiest ({', '.join(parts)}), "
                f"about ${total:,.0f}/month", evidence=evidence,
        recommendation=f"Lower the requests ({'; '.join(parts)}) per replica; review after a week.",
        resource=resource, recommended=recommended, monthly_savings=total,
        remediation=Remediation(action=action, rationale="KRR-style p95 CPU / max memory +15%", risk="low"),
        score=total)


def _idle(spec: ServiceSpec, site: Site, max_rps: float | None, cpu_p95: float, cpu_req: float,
          mem_req: float) -> Finding:
    replicas = spec.resources.replicas if spec.resources else 1
    cost = round(_monthly(cpu_req, mem_req, replicas, site), 2)
    return Finding(
        kind="idle_resource", service=spec.name, severity="medium" if cost >= 100 else "low",
        summary=f"{spec.name} served no traffic and used almost no CPU all period (about ${cost:,.0f}/month)",
        evidence=[FindingEvidence(source="metrics", summary=(
            (f"request_rate never above {max_rps:.3g}/s" if max_rps is not None else
             "no request_rate series and no service depends on it")
            + f"; cpu_usage_cores p95 per replica {cpu_p95:.3g} cores "
            f"across {replicas} replicas"))],
        recommendation=f"Confirm with {spec.team or 'the owning team'} that {spec.name} is unused, then scale it "
                       f"to zero or delete it.",
        monthly_savings=cost,
        remediation=Remediation(action=f"scale {spec.name} to zero replicas", rationale="no traffic all period",
                                risk="medium"),
        score=cost)
