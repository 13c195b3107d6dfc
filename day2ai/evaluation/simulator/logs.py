# ruff: noqa: E501  (message templates read better as one line each)
"""Log records: access and business lines, chronic noise, errors by cause, explicit events.

Counts per tick are Poisson draws from the world's rates, scaled so the expected total is the
requested number of lines; errors are scaled more than routine lines (real pipelines sample
access logs, rarely errors). Lines are generated tick by tick and yielded in time order through a
small heap (a line of tick ``k`` is never earlier than the tick's start), so memory does not grow
with the bundle.

Request-scoped lines carry a trace id. When the bundle has traces, a share of them (more of the
error lines: tail sampling keeps failed traces) is written for a request whose trace is in the
bundle: the line carries that trace id, falls inside that request's span, and an error line is
linked to a request that failed for the same reason. The rest carry ids of unsampled requests.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from day2ai.evaluation.simulator import failures, templates
from day2ai.evaluation.simulator.spec import BundleShape
from day2ai.evaluation.simulator.topology import RESOURCE_WORDS
from day2ai.evaluation.simulator.traces import SpanRef, TraceSet
from day2ai.evaluation.simulator.world import TICK, CompState, LogEvent, World, p_exceed

_WORDS = RESOURCE_WORDS
_ERRORISH = ("error", "retry", "tls", "gcwarn", "slowcall")
_TRACED = (
    "access",
    "business",
    "slow",
    "error:call",
    "error:code",
    "error:deploy",
    "error:pool",
    "error:config",
    "error:flag",
    "error:enospc",
    "retry:",
    "slowcall:",
)
_MEM_LIMIT_MB = {"java": 2048, "go": 512, "python": 1024, "node": 1024}


@dataclass
class _Rate:
    service: str
    category: str  # access | business | health | noisy | gc | slow | db | gcwarn | slowcall:<dst> | retry:<cause> | tls | error:<cause>
    lam: np.ndarray  # expected lines per tick


def clf_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _pressure(world: World, s: CompState) -> np.ndarray:
    """0..1 per tick: how close the pods' memory is to the limit (GC thrash territory)."""
    out = np.zeros(world.n)
    for p in s.pods:
        if p.mem is not None:
            out += np.clip((p.mem - 0.8) / 0.18, 0, 1) * ~p.down
    return out


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
        pressure = _pressure(world, s)
        if pressure.any() or (c.runtime == "java" and world.r.random() < 0.3):
            out.append(_Rate(c.name, "gcwarn", pressure * 40 + 0.01 * pods))
        out.append(_Rate(c.name, "slow", per_tick * p_exceed(s.p50, s.p99, 1.0) * 0.5))
        if world.r.random() < 0.6:  # this client logs calls that took over half their deadline
            for dst, share in s.call_slow.items():
                out.append(_Rate(c.name, "slowcall:" + dst, per_tick * share * 0.3))
        if c.name == world.noisy_warn:
            out.append(_Rate(c.name, "noisy", np.full(world.n, world.r.uniform(1.0, 3.0))))
        for cause, rate in s.err_causes.items():
            out.append(_Rate(c.name, "error:" + cause, rate * TICK * s.log_err_mult))
            if cause.startswith("call:") and not cause.endswith("http5xx"):
                out.append(_Rate(c.name, "retry:" + cause, rate * TICK * 0.4))
        if s.tls.any() and c.runtime in ("go", "node"):
            out.append(_Rate(c.name, "tls", s.offered * s.tls * TICK * 0.3))
    _loud(world, out)
    return out


def _loud(world: World, rates: list[_Rate]) -> None:
    """A loud victim logs ``ratio`` times the root's own error lines (when the root logs any)."""
    loud = world.notes.get("loud")
    if not loud:
        return
    victim, root, ratio = loud
    own = sum(float(r.lam.sum()) for r in rates if r.service == root and r.category.startswith("error:"))
    mine = [r for r in rates if r.service == victim and r.category.startswith("error:")]
    total = sum(float(r.lam.sum()) for r in mine)
    if own > 0 and total > 0:
        for r in mine:
            r.lam = r.lam * (ratio * own / total)


def _scales(rates: list[_Rate], fixed: int, target: int) -> tuple[float, float]:
    """Sampling factors (routine, error lines) whose expected total is ``target`` lines."""
    routine = sum(float(r.lam.sum()) for r in rates if not r.category.startswith(_ERRORISH))
    errors = sum(float(r.lam.sum()) for r in rates) - routine
    cap = min(target * 0.3 / max(errors, 1e-9), 1.0)

    def f_err(f: float) -> float:
        return min(max(f * 4, 0.02), cap)

    lo, hi = 0.0, 50.0
    if routine * hi + errors * f_err(hi) + fixed <= target:
        return hi, f_err(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        if routine * mid + errors * f_err(mid) + fixed < target:
            lo = mid
        else:
            hi = mid
    return lo, f_err(lo)


class _Linker:
    """Chooses the traced request (if any) a request-scoped line was written for."""

    def __init__(self, world: World, traces: TraceSet | None):
        self.traces = traces
        self.p_routine = world.r.uniform(0.04, 0.2)
        self.p_error = world.r.uniform(0.25, 0.7)
        self.r = world.r

    def pick(self, service: str, category: str, k: int) -> SpanRef | None:
        if self.traces is None:
            return None
        routine = category in ("access", "business", "slow") or category.startswith("slowcall:")
        if self.r.random() >= (self.p_routine if routine else self.p_error):
            return None
        refs = self.traces.served(service, k)
        if not routine:
            want = _wanted_cause(category)
            refs = [x for x in refs if x[3] == want]
        return refs[self.r.randrange(len(refs))] if refs else None


def _wanted_cause(category: str) -> str:
    """The SpanRef cause of the failed requests an error line of ``category`` belongs to."""
    if category.startswith(("error:call:", "retry:call:")):
        return category.split(":")[2]
    return ""  # the service's own failure


def log_lines(world: World, shape: BundleShape, target: int, traces: TraceSet | None) -> Iterator[str]:
    """About ``target`` JSON lines in time order (expected count = target, Poisson noise)."""
    rates = _rates(world)
    events = sorted((ev for ev in world.events if world.st(ev.service).comp.telemetry), key=lambda ev: ev.t)
    jobs: dict[int, list[tuple[str, str]]] = {}
    for svc, job, period in world.jobs:
        for k in range(world.r.randint(0, period - 1), world.n, period):
            jobs.setdefault(k, []).append((svc, job))
    fixed = len(events) + 2 * sum(len(v) for v in jobs.values())
    f_routine, f_err = _scales(rates, fixed, target)
    lam = np.vstack([r.lam * (f_err if r.category.startswith(_ERRORISH) else f_routine) for r in rates])
    counts = world.rng.poisson(np.clip(lam, 0, None))
    linker = _Linker(world, traces if shape.log_trace_ids else None)
    heap: list[tuple[float, int, str]] = []
    seq = 0
    ev_i = 0
    for k in range(world.n):
        pending: list[tuple[float, str]] = []
        for i in np.flatnonzero(counts[:, k]).tolist():
            rate = rates[i]
            s = world.st(rate.service)
            for _ in range(int(counts[i, k])):
                pending.append(_line(world, shape, s, rate.category, k, linker))
        for svc, job in jobs.get(k, ()):
            s = world.st(svc)
            t0 = world.at(k, world.r.uniform(0, 2))
            for started, dt in ((True, 0.0), (False, world.r.uniform(5, 100))):
                msg = templates.job_line(world.r, job, started)
                pending.append((t0 + dt, _dump(_record(world, shape, s, t0 + dt, "INFO", msg, k, "job"))))
        bound = world.at(k + 1)
        while ev_i < len(events) and (events[ev_i].t < bound or k == world.n - 1):
            pending.append(_event(world, shape, events[ev_i]))
            ev_i += 1
        for t, text in pending:
            heapq.heappush(heap, (t, seq, text))
            seq += 1
        while heap and (heap[0][0] < bound or k == world.n - 1):
            yield heapq.heappop(heap)[2]


def _event(world: World, shape: BundleShape, ev: LogEvent) -> tuple[float, str]:
    s = world.st(ev.service)
    return ev.t, _dump(_record(world, shape, s, ev.t, ev.level, ev.message, None, "event", ev.pod))


def _line(
    world: World, shape: BundleShape, s: CompState, category: str, k: int, linker: _Linker
) -> tuple[float, str]:
    traced = shape.log_trace_ids and category.startswith(_TRACED)
    ref = linker.pick(s.comp.name, category, k) if traced else None
    if ref is None:
        t = float(world.t[k]) + world.r.uniform(0, TICK)
        tid = templates.hexs(world.r, 32) if traced else None
    else:
        t = ref[2] if category == "access" else world.r.uniform(ref[1], ref[2])
        tid = linker.traces.trace_ids[ref[0]] if linker.traces else None
    level, msg = _message(world, s, category, k, t, ref)
    return t, _dump(_record(world, shape, s, t, level, msg, k, category, trace_id=tid))


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
    trace_id: str | None = None,
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
    if trace_id is not None:
        rec["trace_id"] = trace_id
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


def _message(
    world: World, s: CompState, category: str, k: int, t: float, ref: SpanRef | None = None
) -> tuple[str | None, str]:
    r, c = world.r, s.comp
    ops = c.operations or ("GET /",)
    op = ops[r.randrange(len(ops))] if ref is None else ref[4]
    if category == "access":
        status = 200
        if ref is not None:
            status = 200 if ref[3] is None else 500
            lat = ref[2] - ref[1]
        else:
            if r.random() < s.err[k]:
                status = 503 if "overload" in s.err_causes and r.random() < 0.5 else 500
            elif r.random() < 0.01:
                status = r.choice((400, 401, 404))
            lat = float(s.p50[k] * math.exp(r.gauss(0, 0.5)))
        return "INFO", templates.access_line(r, c.runtime, c.role == "entry", op, status, lat, clf_time(t))
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
    if category == "gcwarn":
        level = float(np.mean([p.mem[k] for p in s.pods if p.mem is not None] or [r.uniform(0.8, 0.88)]))
        return "WARN", templates.gc_pressure_line(
            r, c.runtime, max(level, 0.8), _MEM_LIMIT_MB.get(c.runtime, 1024)
        )
    if category.startswith("slowcall:"):
        callee = world.st(category.split(":", 1)[1])
        edge = next(e for e in world.topo.out_edges(c.name) if e.dst == callee.comp.name)
        return "WARN", failures.slow_call(r, c, callee.comp, edge.timeout_at(k) * r.uniform(0.5, 0.95))
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
            timeout_ms=_timeout_ms(world, c.name, dst, k),
        )
    return failures.own_error(r, cause, c, str(world.notes.get("flavour", "")) + c.name)


def _timeout_ms(world: World, src: str, dst: str, k: int) -> int | None:
    edge = next((e for e in world.topo.out_edges(src) if e.dst == dst), None)
    return int(edge.timeout_at(k) * 1000) if edge is not None else None


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


__all__ = ["LogEvent", "format_time", "log_lines"]
