"""Simulated incidents, alerts, changes, configuration objects and runbooks of an ops history."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from day2ai.scan.sim.plan import FAULTS, Plan, alert_name

DAY = 86400.0
RETIRED = "legacy-billing"


def _iso(t: float) -> str:
    from day2ai.timeutil import iso

    return iso(t)


def changes(plan: Plan, rng: np.random.Generator) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = 0
    for s in plan.names:
        for t in np.sort(rng.uniform(plan.start, plan.end, rng.poisson(0.25 * plan.days))):
            n += 1
            env = "staging" if rng.random() < 0.15 else "production"
            out.append({"id": f"chg-{n}", "timestamp": float(round(t)), "service": s, "kind": "deploy",
                        "summary": f"deploy {s} v{n}", "version": f"v{n}", "environment": env,
                        "first_commit_at": float(round(t - rng.lognormal(np.log(20 * 3600), 0.8)))})
    # a retired service shows up in old changes (it was decommissioned during the period)
    out.append({"id": "chg-retire", "timestamp": plan.start + 2 * DAY, "service": RETIRED, "kind": "infra",
                "summary": f"decommission {RETIRED}"})
    return sorted(out, key=lambda c: c["timestamp"])


def _incident(plan: Plan, rng: np.random.Generator, n: int, service: str, fault: str, t: float,
              deploys: list[dict[str, Any]]) -> dict[str, Any]:
    ack = t + float(rng.lognormal(np.log(6 * 60), 0.7))
    res = t + float(rng.lognormal(np.log(90 * 60), 0.7))
    inc: dict[str, Any] = {"id": f"INC-{n}", "title": f"{service} {fault.replace('_', ' ')}", "service": service,
                           "severity": str(rng.choice(["sev1", "sev2", "sev3", "sev4"], p=[0.1, 0.3, 0.4, 0.2])),
                           "opened_at": _iso(t), "acknowledged_at": _iso(ack),
                           "mitigated_at": _iso((ack + res) / 2), "resolved_at": _iso(res),
                           "root_cause": {"service": service, "fault": fault}}
    prior = [d for d in deploys if d["service"] == service and d["environment"] == "production"
             and t - 2 * DAY < d["timestamp"] < t]
    if prior and rng.random() < 0.6:
        inc["change_id"] = prior[-1]["id"]
    return inc


def incidents(plan: Plan, rng: np.random.Generator, deploys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    special = set(plan.role("automation") + plan.role("pm_recurrence"))

    def add(service: str, fault: str, t: float) -> dict[str, Any]:
        inc = _incident(plan, rng, len(out) + 1, service, fault, t, deploys)
        out.append(inc)
        seen[(service, fault)] = seen.get((service, fault), 0) + 1
        return inc

    span = plan.end - plan.start
    for s in plan.role("automation"):
        fault = str(rng.choice(FAULTS))
        for t in np.sort(rng.uniform(plan.start, plan.end - DAY, int(rng.integers(3, 6)))):
            add(s, fault, float(t))
    for s in plan.role("pm_recurrence"):
        fault = str(rng.choice(FAULTS))
        first = add(s, fault, plan.start + 0.2 * span)
        first["postmortem"] = f"postmortems/{first['id'].lower()}.md"
        add(s, fault, plan.start + 0.7 * span)
    for _ in range(len(plan.names) * 2):  # background incidents: never 3 of a kind, no recurrence
        s = str(rng.choice([n for n in plan.names if n not in special]))
        fault = str(rng.choice(FAULTS))
        if seen.get((s, fault), 0) >= 1:
            continue
        add(s, fault, float(rng.uniform(plan.start, plan.end - DAY)))
    for role, status, due in (("pm_overdue", "open", plan.end - 5 * DAY), ("pm_done", "done", plan.end - 5 * DAY)):
        for s in plan.role(role):
            inc = next((i for i in out if i["service"] == s), None) or add(s, "config_error", plan.start + DAY)
            inc["postmortem"] = f"postmortems/{inc['id'].lower()}.md"
            inc["action_items"] = [{"id": f"AI-{inc['id']}-1", "title": "add an alert", "status": status,
                                    "due": _iso(due)},
                                   {"id": f"AI-{inc['id']}-2", "title": "later work", "status": "open",
                                    "due": _iso(plan.end + 20 * DAY)}]
    return sorted(out, key=lambda i: i["opened_at"])


def alerts(plan: Plan, rng: np.random.Generator, incs: list[dict[str, Any]],
           silent: set[str]) -> list[dict[str, Any]]:
    from day2ai.timeutil import parse_timestamp

    out: list[dict[str, Any]] = []

    def fire(name: str, s: str, t: float, dur: float, ack: bool, sev: str, inc: str | None = None) -> None:
        a: dict[str, Any] = {"alert": name, "service": s, "severity": sev, "fired_at": _iso(t),
                             "resolved_at": _iso(t + dur), "acknowledged": ack}
        if inc:
            a["incident_id"] = inc
        out.append(a)

    weeks = plan.days / 7
    for inc in incs:  # every incident was paged
        if inc["service"] not in silent:
            t = parse_timestamp(inc["opened_at"]) - 120
            fire(alert_name(inc["service"], "errors"), inc["service"], t, 3600, True, "page", inc["id"])
    for s in plan.role("noisy"):
        for t in rng.uniform(plan.start, plan.end, int(weeks * rng.uniform(3, 6))):
            fire(alert_name(s, "noisy"), s, float(t), float(rng.uniform(300, 1800)), rng.random() < 0.1, "page")
    for s in plan.role("flapping"):
        for burst in rng.uniform(plan.start, plan.end - DAY, int(rng.integers(3, 6))):
            t = float(burst)
            for _ in range(int(rng.integers(3, 6))):
                dur = float(rng.uniform(60, 300))
                fire(alert_name(s, "flapping"), s, t, dur, rng.random() < 0.5, "ticket")
                t += dur + float(rng.uniform(60, 600))
    for s in plan.role("alert_acked_often"):  # fires often, but people act on it: not noise
        for t in rng.uniform(plan.start, plan.end, int(weeks * 3)):
            fire(alert_name(s, "acked"), s, float(t), 1800, rng.random() < 0.8, "ticket")
    for s in plan.role("alert_rare"):  # never acknowledged, but rare: not noise
        for t in rng.uniform(plan.start, plan.end, 3):
            fire(alert_name(s, "rare"), s, float(t), 600, False, "info")
    return sorted(out, key=lambda a: a["fired_at"])


def deployment(plan: Plan, s: str) -> dict[str, Any]:
    cpu, mem = plan.cpu_request[s], plan.mem_request[s]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": s, "namespace": "shop", "labels": {"app": s}},
            "spec": {"replicas": plan.replicas[s], "selector": {"matchLabels": {"app": s}},
                     "template": {"metadata": {"labels": {"app": s}}, "spec": {
                         "securityContext": {"runAsNonRoot": True},
                         "containers": [{"name": s, "image": f"registry.example/{s}:1.{plan.seed % 9}.3",
                                         "env": [{"name": "LOG_LEVEL", "value": "info"}],
                                         "resources": {"requests": {"cpu": f"{int(cpu * 1000)}m",
                                                                    "memory": f"{int(mem / 2**20)}Mi"},
                                                       "limits": {"memory": f"{int(mem / 2**20)}Mi"}}}]}}}}


def live_object(plan: Plan, desired: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """What the cluster returns: server metadata, status, defaulted fields, quantities rewritten."""
    s = desired["metadata"]["name"]
    live = copy.deepcopy(desired)
    live["metadata"].update({"uid": f"{rng.integers(1 << 40):x}", "resourceVersion": str(rng.integers(1 << 20)),
                             "generation": 3, "creationTimestamp": _iso(plan.start - 40 * DAY),
                             "annotations": {"deployment.kubernetes.io/revision": "7"},
                             "managedFields": [{"manager": "kubectl", "operation": "Apply"}]})
    spec = live["spec"]
    spec.update({"progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}})
    pod = spec["template"]["spec"]
    pod.update({"restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst"})
    c = pod["containers"][0]
    c.update({"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"})
    cpu_m = int(plan.cpu_request[s] * 1000)
    if cpu_m % 1000 == 0:
        c["resources"]["requests"]["cpu"] = str(cpu_m // 1000)  # "1000m" comes back as "1"
    live["status"] = {"replicas": plan.replicas[s], "readyReplicas": plan.replicas[s]}
    if s in plan.role("drift"):
        c["env"][0]["value"] = "debug"
        spec["replicas"] = plan.replicas[s] + 2
    if s in plan.role("drift_security"):
        kind = int(rng.integers(0, 4))
        if kind == 0:
            c["securityContext"] = {"privileged": True}
        elif kind == 1:
            c["image"] = f"registry.example/{s}:latest"
        elif kind == 2:
            del c["resources"]["limits"]
        else:
            pod["securityContext"]["runAsNonRoot"] = False
    return live


def runbook(plan: Plan, s: str, metrics: list[str]) -> str:
    lines = [f"# {s} runbook", "", f"Owner: team of {s}.", "", "## Restart", "",
             f"```\nkubectl -n shop rollout restart deploy/{s}\nkubectl -n shop get pods -l app={s}\n```", "",
             "## Check load", "", f"Look at `rate({metrics[0]}[5m])` and `{metrics[1]}` for {s}.",
             "Node pressure: `node_cpu_seconds_total` from the node exporter.", ""]
    if s in plan.role("stale_runbook"):
        lines += ["## Billing", "", f"If invoices fail, check `kubectl -n shop logs deploy/{RETIRED}`.", ""]
    if s in plan.role("stale_metric"):
        lines += ["## Queue", "", f"Watch `{s.replace('-', '_')}_legacy_queue_depth_total` in Grafana.", ""]
    return "\n".join(lines)
