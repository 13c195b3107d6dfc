# ruff: noqa: E501  (message templates read better as one line each)
"""Log records: access and business lines, chronic noise, errors by cause, explicit events.

Counts per tick are Poisson draws from the world's rates, scaled so the bundle holds about the
requested number of lines; errors are scaled less than routine lines (real pipelines sample
access logs, rarely errors). Records are returned sorted by time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from day2ai.evaluation.simulator import failures, templates
from day2ai.evaluation.simulator.spec import BundleShape
from day2ai.evaluation.simulator.topology import RESOURCE_WORDS
from day2ai.evaluation.simulator.world import TICK, CompState, LogEvent, World, p_exceed

_WORDS = RESOURCE_WORDS


@dataclass
class _Rate:
    service: str
    category: str  # access | business | health | noisy | gc | slow | retry | tls | db | error:<cause>
    lam: np.ndarray  # expected lines per tick


def clf_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _rates(world: World) -> list[_Rate]:
    out: list[_Rate] = []
    for c in world.topo.components:
        if not c.telemetry or c.kind == "external":
            continue
        s = world.st(c.name)
        per_tick = s.served * TICK
        pods = float(len([p for p in s.pods if p.end >= world.n]) or 1)
        if c.kind != "service":
            out.append(
                _Rate(
                    c.name,
                    "db",
                    np.full(world.n, 0.4 * pods)
                    + per_tick * 0.002
                    + per_tick * p_exceed(s.p50, s.p99, 0.5) * 0.2,
                )
            )
            for cause, rate in s.err_causes.items():
                if not cause.startswith("call:") and cause != "overload":
                    out.append(_Rate(c.name, "error:" + cause, rate * TICK * 0.5))
            continue
        out.append(_Rate(c.name, "access", per_tick * 0.5 * s.verbosity))
        out.append(_Rate(c.name, "business", per_tick * 0.15 * s.verbosity))
        if world.r.random() < 0.4:
            out.append(_Rate(c.name, "health", np.full(world.n, 1.5 * pods)))
        if c.runtime == "java" or (c.runtime == "go" and world.r.random() < 0.3):
            out.append(_Rate(c.name, "gc", np.full(world.n, 0.4 * pods) + s.cpu_extra * 3))
        out.append(_Rate(c.name, "slow", per_tick * p_exceed(s.p50, s.p99, 1.0) * 0.5))
        if c.name == world.noisy_warn:
            out.append(_Rate(c.name, "noisy", np.full(world.n, world.r.uniform(1.0, 3.0))))
        for cause, rate in s.err_causes.items():
            out.append(_Rate(c.name, "error:" + cause, rate * TICK * s.log_err_mult))
            if cause.startswith("call:") and not cause.endswith("http5xx"):
                out.append(_Rate(c.name, "retry:" + cause, rate * TICK * 0.4))
        if s.tls.any() and c.runtime in ("go", "node"):
            out.append(_Rate(c.name, "tls", s.offered * s.tls * TICK * 0.3))
    return out


def log_records(world: World, shape: BundleShape, target: int) -> list[tuple[float, str]]:
    """(time, JSON line) pairs sorted by time; lines are serialised early to keep memory small."""
    rates = _rates(world)
    routine = sum(float(r.lam.sum()) for r in rates if not r.category.startswith(("error", "retry", "tls")))
    errors = sum(float(r.lam.sum()) for r in rates) - routine
    f_routine = min(target * 0.85 / max(routine, 1e-9), 50.0)
    f_err = min(max(f_routine * 4, 0.02), target * 0.3 / max(errors, 1e-9), 1.0)
    records: list[tuple[float, str]] = []
    for rate in rates:
        scale = f_routine if not rate.category.startswith(("error", "retry", "tls")) else f_err
        counts = world.rng.poisson(np.clip(rate.lam * scale, 0, None))
        s = world.st(rate.service)
        for k in np.flatnonzero(counts).tolist():
            for _ in range(int(counts[k])):
                t = float(world.t[k]) + world.r.uniform(0, TICK)
                level, msg = _message(world, s, rate.category, k, t)
                records.append((t, _dump(_record(world, shape, s, t, level, msg, k, rate.category))))
    for ev in world.events:
        s = world.st(ev.service)
        if s.comp.telemetry:
            records.append(
                (ev.t, _dump(_record(world, shape, s, ev.t, ev.level, ev.message, None, "event", ev.pod)))
            )
    for svc, job, period in world.jobs:
        s = world.st(svc)
        for k in range(world.r.randint(0, period - 1), world.n, period):
            t0 = world.at(k, world.r.uniform(0, 2))
            for started, dt in ((True, 0.0), (False, world.r.uniform(5, 100))):
                msg = templates.job_line(world.r, job, started)
                records.append((t0 + dt, _dump(_record(world, shape, s, t0 + dt, "INFO", msg, k, "job"))))
    records.sort(key=lambda x: x[0])
    return records


def _record(
    world: World,
    shape: BundleShape,
    s: CompState,
    t: float,
    level: str | None,
    msg: str,
    k: int | None,
    category: str,
    pod: str | None = None,
) -> dict[str, object]:
    if pod is None:
        up = [p for p in s.pods if k is not None and p.start <= k < p.end and not p.down[k]] or s.pods
        pod = up[world.r.randrange(len(up))].name
    if category == "access" and s.comp.role == "entry":
        level = None  # raw proxy access lines carry no level
    rec: dict[str, object] = {"timestamp": format_time(t, shape.log_time_format), "service": s.comp.name}
    if level is not None:
        rec["level"] = level.lower() if shape.level_case == "lower" else level
    rec["message"] = msg
    if (shape.log_trace_ids and category in ("access", "business", "slow")) or (
        shape.log_trace_ids
        and category.startswith(("error:call", "error:code", "error:deploy", "error:pool"))
    ):
        rec["trace_id"] = templates.hexs(world.r, 32)
    rec["attributes"] = {"pod": pod, "namespace": "prod"}
    return rec


def _dump(rec: dict[str, object]) -> str:
    return json.dumps(rec, ensure_ascii=False, separators=(", ", ": "))


def format_time(t: float, fmt: str) -> str | float:
    if fmt == "epoch":
        return round(t, 6)
    dt = datetime.fromtimestamp(t, UTC)
    if fmt == "rfc3339_ns":
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int((t % 1) * 1e9):09d}Z"
    if fmt == "rfc3339_offset":
        return dt.isoformat(timespec="microseconds")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _message(world: World, s: CompState, category: str, k: int, t: float) -> tuple[str | None, str]:
    r, c = world.r, s.comp
    ops = c.operations or ("GET /",)
    op = ops[r.randrange(len(ops))]
    if category == "access":
        status = 200
        if r.random() < s.err[k]:
            status = 503 if "overload" in s.err_causes and r.random() < 0.5 else 500
        elif r.random() < 0.01:
            status = r.choice((400, 401, 404))
        lat = s.p50[k] * np.exp(r.gauss(0, 0.5))
        return "INFO", templates.access_line(
            r, c.runtime, c.role == "entry", op, status, float(lat), clf_time(t)
        )
    if category == "business":
        return ("DEBUG" if r.random() < 0.2 else "INFO"), templates.business_line(r, c.name, r.choice(_WORDS))
    if category == "health":
        return "INFO", f"GET /healthz 200 {r.uniform(0.2, 2.5):.1f}ms"
    if category == "gc":
        return "INFO", templates.gc_line(
            r, c.runtime, r.uniform(0.002, 0.03) * (1 + 20 * float(s.cpu_extra[k] > 0.2))
        )
    if category == "slow":
        return "WARN", templates.slow_line(r, op, float(s.p99[k]) * r.uniform(0.6, 1.1))
    if category == "noisy":
        pick = int(failures.hexs_fixed(c.name), 16) % len(templates.CHRONIC_WARNINGS)
        return "WARN", templates.CHRONIC_WARNINGS[pick](r, c.name)
    if category == "tls":
        return "ERROR", failures.own_error(r, "tls_server", c, "")[1]
    if category == "db":
        return _db_line(world, s, k)
    cause = category.split(":", 1)[1]
    if category.startswith("retry:"):
        dst, kind = cause.split(":")[1:3]
        return "WARN", f"retrying request to {dst} (attempt {r.randint(2, 3)}/3) after {kind}"
    if cause.startswith("call:"):
        _, dst, kind = cause.split(":")
        callee = world.st(dst)
        return "ERROR", failures.call_error(
            r,
            kind,
            c,
            callee.comp,
            _callee_text(world, callee, k),
            now=str(format_time(t, "rfc3339_ms")).split(".")[0] + "Z",
            expiry=_expiry(world),
        )
    return failures.own_error(r, cause, c, str(world.notes.get("flavour", "")) + c.name)


def _expiry(world: World) -> str:
    t = float(world.notes.get("cert_expiry", world.start))
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _callee_text(world: World, callee: CompState, k: int) -> str | None:
    fixed = world.notes.get("callee_text", {}).get(callee.comp.name)
    if fixed:
        return str(fixed)
    own = [
        (key, float(v[k])) for key, v in callee.err_causes.items() if not key.startswith("call:") and v[k] > 0
    ]
    if not own or world.r.random() < 0.3:
        return None
    total = sum(w for _, w in own)
    x = world.r.uniform(0, total)
    for key, w in own:
        x -= w
        if x <= 0:
            level, msg = failures.own_error(
                world.r, key, callee.comp, str(world.notes.get("flavour", "")) + callee.comp.name
            )
            del level
            return msg
    return None


def _db_line(world: World, s: CompState, k: int) -> tuple[str | None, str]:
    r, c = world.r, s.comp
    if c.engine == "postgres":
        return "INFO", r.choice(
            (
                "LOG:  checkpoint starting: time",
                f"LOG:  checkpoint complete: wrote {r.randint(50, 4000)} buffers ({r.uniform(0.1, 9):.1f}%); 0 WAL file(s) added, 0 removed, {r.randint(0, 3)} recycled",
                f"LOG:  duration: {max(float(s.p99[k]), 0.2) * 1000 * r.uniform(0.8, 2):.3f} ms  statement: SELECT * FROM {r.choice(_WORDS)} WHERE id = $1",
                f'LOG:  automatic vacuum of table "app.public.{r.choice(_WORDS)}": index scans: 1',
            )
        )
    if c.engine == "mysql":
        return "INFO", r.choice(
            (
                f"[Note] [MY-010914] [Server] Aborted connection {r.randint(1000, 99999)} to db: 'app' user: 'app' (Got an error reading communication packets)",
                f"# Query_time: {max(float(s.p99[k]), 0.2) * r.uniform(1, 3):.6f}  Lock_time: 0.000012 Rows_sent: {r.randint(1, 500)}",
            )
        )
    if c.engine == "redis":
        return "INFO", r.choice(
            (
                f"{r.randint(100, 10000)} changes in 300 seconds. Saving...",
                f"Background saving started by pid {r.randint(100, 9000)}",
                "DB saved on disk",
                "Background saving terminated with success",
            )
        )
    if c.engine == "kafka":
        return (
            "INFO",
            f"[Log partition={c.name}-{r.randint(0, 11)}, dir=/var/lib/kafka/data] Rolled new log segment at offset {r.randint(10**5, 10**8)} in {r.randint(1, 9)} ms.",
        )
    if c.engine == "rabbitmq":
        return (
            "INFO",
            f"accepting AMQP connection <0.{r.randint(100, 9999)}.0> ({templates.ip(r)}:{r.randint(30000, 60999)} -> {templates.ip(r)}:5672)",
        )
    if c.engine == "memcached":
        return "INFO", f"<{r.randint(20, 90)} new auto-negotiating client connection"
    return (
        "INFO",
        f'{{"t":{{"$date":"..."}},"s":"I","c":"NETWORK","msg":"Connection accepted","attr":{{"remote":"{templates.ip(r)}:{r.randint(30000, 60999)}"}}}}',
    )


__all__ = ["LogEvent", "format_time", "log_records"]
