"""One synthetic incident, rendered for every backend the source tests serve.

Three services, ``frontend -> checkout -> payments``. At ``onset`` a new payments revision
(deployed five minutes earlier) exhausts its connection pool: payments answers errors, logs
``connection pool exhausted``, its spans fail and its latency rises; callers see upstream errors.
The numbers are generated from a seed, so tests compare what a backend returns with what the
scenario says it holds, not with constants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

SERVICES = ("frontend", "checkout", "payments")
CALLS = {"frontend": "checkout", "checkout": "payments"}
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCRAPE = 15


@dataclass
class Scenario:
    t0: float  # first sample (aligned to 15 minutes)
    hours: float = 2.5
    seed: int = 7
    onset_after: float = 95 * 60
    culprit: str = "payments"

    def rng(self, purpose: str) -> random.Random:
        """A generator of its own for each kind of data: every call renders the same scenario."""
        return random.Random(f"{self.seed}:{purpose}")

    @classmethod
    def recent(cls, now: float, **kw: Any) -> Scenario:
        """A scenario ending a little before ``now`` (so Prometheus keeps and serves it)."""
        end = (int(now) // 900) * 900 - 900
        return cls(t0=end - 2.5 * 3600, **kw)

    @property
    def end(self) -> float:
        return self.t0 + self.hours * 3600

    @property
    def onset(self) -> float:
        return self.t0 + self.onset_after

    @property
    def deploy_at(self) -> float:
        return self.onset - 300

    def times(self, every: float = SCRAPE) -> list[float]:
        n = int(self.hours * 3600 // every)
        return [self.t0 + i * every for i in range(n + 1)]

    def broken(self, service: str, t: float) -> bool:
        return service == self.culprit and t >= self.onset

    def affected(self, service: str, t: float) -> bool:
        return t >= self.onset and service in SERVICES[: SERVICES.index(self.culprit) + 1]

    # ------------------------------------------------------------ metrics (cumulative counters)

    def error_rate(self, service: str, t: float) -> float:
        """Errors per scrape interval (requests are 10 per interval)."""
        if self.broken(service, t):
            return 4.0
        return 2.0 if self.affected(service, t) and service != "frontend" else 0.0

    def latency_bucket_counts(self, service: str, t: float) -> list[float]:
        """Requests per interval falling in each bucket (cumulative over buckets, +Inf last)."""
        per_bucket = [8.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # fast
        if self.affected(service, t):
            per_bucket = [2.0, 1.0, 1.0, 2.0, 3.0, 1.0, 0.0]  # slow
        out, acc = [], 0.0
        for c in per_bucket:
            acc += c
            out.append(acc)
        return out

    def memory(self) -> dict[str, list[float]]:
        rng = self.rng("memory")
        mem: dict[str, list[float]] = {}
        for svc in SERVICES:
            base = 200e6 + 50e6 * SERVICES.index(svc)
            mem[svc] = [round(base + rng.uniform(-2e6, 2e6)) for _ in self.times()]
        return mem

    def openmetrics(self) -> str:
        """The scenario as OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``."""
        times = self.times()
        lines: list[str] = []
        h = "http_server_request_duration_seconds"
        # requests by status code
        for code in ("200", "500"):
            for svc in SERVICES:
                total = 0.0
                for t in times:
                    err = self.error_rate(svc, t)
                    total += err if code == "500" else 10.0 - err
                    lines.append(
                        f'{h}_count{{service="{svc}",http_response_status_code="{code}"}} {total} {t}'
                    )
        for i, le in enumerate((*map(str, BUCKETS), "+Inf")):
            for svc in SERVICES:
                total = 0.0
                for t in times:
                    total += self.latency_bucket_counts(svc, t)[i]
                    lines.append(f'{h}_bucket{{service="{svc}",le="{le}"}} {total} {t}')
        for svc in SERVICES:
            total = 0.0
            for t in times:
                total += 0.3 * SCRAPE
                lines.append(f'container_cpu_usage_seconds_total{{container="{svc}"}} {total} {t}')
        for svc in SERVICES:
            for t in times:
                lines.append(f'kube_pod_container_resource_limits{{container="{svc}",resource="cpu"}} 1 {t}')
        for svc, values in self.memory().items():
            for t, v in zip(times, values, strict=True):
                lines.append(f'container_memory_working_set_bytes{{container="{svc}"}} {v} {t}')
        return "\n".join(lines) + "\n# EOF\n"

    # ------------------------------------------------------------ logs, spans, changes

    def logs(self) -> list[dict[str, Any]]:
        rng = self.rng("logs")
        out: list[dict[str, Any]] = []
        for svc in SERVICES:
            for i, t in enumerate(self.times(30)):
                out.append(
                    {
                        "ts": t + SERVICES.index(svc),
                        "service": svc,
                        "level": "info",
                        "line": f"handled request {i} in {rng.randint(5, 40)} ms",
                    }
                )
        for t in self.times(10):
            if self.broken("payments", t):
                out.append(
                    {
                        "ts": t + 0.5,
                        "service": "payments",
                        "level": "error",
                        "line": f"connection pool exhausted: waited {rng.randint(900, 2000)} ms for a "
                        "connection (pool size 4)",
                    }
                )
            if self.affected("checkout", t) and int(t) % 20 == 0:
                out.append(
                    {
                        "ts": t + 0.7,
                        "service": "checkout",
                        "level": "error",
                        "line": "payment call failed: upstream returned 503",
                    }
                )
        out.sort(key=lambda r: (r["ts"], r["service"]))
        return out

    def traces(self) -> list[dict[str, Any]]:
        """Jaeger-shaped traces, one per minute through the three services."""
        rng = self.rng("traces")
        traces = []
        for i, t in enumerate(self.times(60)):
            trace_id = f"{i + 1:032x}"
            spans, processes = [], {}
            parent = None
            start_us = int((t + 3) * 1e6)
            for depth, svc in enumerate(SERVICES):
                broken = self.broken(svc, t)
                slow = self.affected(svc, t)
                dur = (900 if slow else 40) * (3 - depth) + rng.randint(0, 10)
                span_id = f"{i + 1:08x}{depth:08x}"
                tags = [{"key": "span.kind", "type": "string", "value": "server"}]
                if broken:
                    tags.append({"key": "error", "type": "bool", "value": True})
                refs = [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent}] if parent else []
                spans.append(
                    {
                        "traceID": trace_id,
                        "spanID": span_id,
                        "operationName": f"POST /{svc}",
                        "references": refs,
                        "startTime": start_us + depth * 1000,
                        "duration": dur * 1000,
                        "tags": tags,
                        "logs": [],
                        "processID": f"p{depth + 1}",
                        "warnings": None,
                    }
                )
                processes[f"p{depth + 1}"] = {"serviceName": svc, "tags": []}
                parent = span_id
            traces.append({"traceID": trace_id, "spans": spans, "processes": processes, "warnings": None})
        return traces

    def replicasets(self) -> list[dict[str, Any]]:
        def rs(svc: str, rev: int, created: float, image: str) -> dict[str, Any]:
            from day2ai.timeutil import iso

            return {
                "metadata": {
                    "name": f"{svc}-{rev:x}abc",
                    "namespace": "shop",
                    "creationTimestamp": iso(created),
                    "labels": {"app.kubernetes.io/name": svc},
                    "annotations": {"deployment.kubernetes.io/revision": str(rev)},
                    "ownerReferences": [{"kind": "Deployment", "name": svc, "controller": True}],
                },
                "spec": {"template": {"spec": {"containers": [{"name": svc, "image": image}]}}},
            }

        out = [rs(s, 1, self.t0 - 86400, f"registry.example/{s}:v1.0.0") for s in SERVICES]
        out.append(rs(self.culprit, 2, self.deploy_at, f"registry.example/{self.culprit}:v2.14.0"))
        return out
