# ruff: noqa: E501  (message templates read better as one line each)
"""Log message templates with realistic variable fields (ids, durations, IPs, paths, hosts).

Every function takes a ``random.Random`` and returns the raw text an application would print.
Messages for one cause vary by runtime (java, go, python, node) and by the kind of callee.
"""

from __future__ import annotations

import random
from collections.abc import Callable

R = random.Random
_HEX = "0123456789abcdef"
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "okhttp/4.12.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "curl/8.5.0",
)


def ip(r: R) -> str:
    return f"10.{r.randint(0, 7)}.{r.randint(0, 255)}.{r.randint(2, 254)}"


def public_ip(r: R) -> str:
    return f"{r.choice((203, 198, 192, 100, 81, 91))}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"


def hexs(r: R, n: int) -> str:
    return "".join(r.choice(_HEX) for _ in range(n))


def uuid(r: R) -> str:
    return f"{hexs(r, 8)}-{hexs(r, 4)}-4{hexs(r, 3)}-{r.choice('89ab')}{hexs(r, 3)}-{hexs(r, 12)}"


def sku(r: R) -> str:
    return "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))


def fill_path(r: R, path: str) -> str:
    return path.replace("{id}", str(r.randint(1000, 999999)))


def ms(r: R, seconds: float) -> str:
    return f"{max(seconds, 0.0001) * 1000 * r.uniform(0.7, 1.4):.1f}"


def pkg(service: str) -> str:
    return "com.acme." + service.replace("-", "")


def cls(service: str) -> str:
    return "".join(p.capitalize() for p in service.split("-"))


# -- healthy request logs ---------------------------------------------------------------------------------


def access_line(r: R, runtime: str, entry: bool, op: str, status: int, seconds: float, when: str) -> str:
    method, _, path = op.partition(" ")
    if not path:  # gRPC full method name
        code = "OK" if status < 400 else ("Unavailable" if status == 503 else "Internal")
        return (
            f"finished unary call with code {code} grpc.method={op.rsplit('/', 1)[-1]} "
            f"grpc.service={op.rsplit('/', 1)[0]} grpc.time_ms={ms(r, seconds)} peer.address={ip(r)}:{r.randint(30000, 60999)}"
        )
    path = fill_path(r, path)
    size = r.randint(80, 24000) if status < 400 else r.randint(20, 300)
    if entry:
        return (
            f'{public_ip(r)} - - [{when}] "{method} {path} HTTP/1.1" {status} {size} "-" "{r.choice(_AGENTS)}" '
            f"rt={seconds * r.uniform(0.8, 1.2):.3f} uct=0.000 request_id={hexs(r, 32)}"
        )
    if runtime == "java":
        return f"Completed {status} {'OK' if status < 400 else 'INTERNAL_SERVER_ERROR'} in {ms(r, seconds).split('.')[0]}ms ({method} {path})"
    if runtime == "python":
        return f'{ip(r)}:{r.randint(30000, 60999)} - "{method} {path} HTTP/1.1" {status}'
    if runtime == "node":
        return f"{method} {path} {status} {ms(r, seconds)} ms - {size}"
    return f"request completed method={method} path={path} status={status} duration={ms(r, seconds)}ms bytes={size}"


def business_line(r: R, service: str, word: str) -> str:
    n = r.randint(1, 40)
    options: tuple[Callable[[], str], ...] = (
        lambda: (
            f"{word[:-1] if word.endswith('s') else word} {r.randint(10000, 9999999)} updated by user {r.randint(1, 500000)}"
        ),
        lambda: f"fetched {n} {word} for account {uuid(r)} in {r.randint(1, 90)}ms",
        lambda: f"cache miss for key {word}:{sku(r)}, loading from store",
        lambda: f"processed batch of {n} {word} (skipped=0)",
        lambda: f"published event {word}.updated id={uuid(r)} partition={r.randint(0, 11)}",
        lambda: f"user {r.randint(1, 500000)} session {hexs(r, 16)} refreshed",
        lambda: f"validated request payload for {word} (fields={r.randint(3, 25)})",
    )
    return options[r.randrange(len(options))]()


def startup_lines(r: R, runtime: str, service: str, version: str, port: int) -> list[str]:
    if runtime == "java":
        return [
            f"Starting {cls(service)}Application {version} using Java 17.0.{r.randint(6, 11)} with PID 1",
            f"Tomcat initialized with port {port} (http)",
            "HikariPool-1 - Start completed.",
            f"Started {cls(service)}Application in {r.uniform(4, 19):.3f} seconds (process running for {r.uniform(5, 21):.3f})",
        ]
    if runtime == "python":
        return [
            f"Started server process [{r.randint(1, 40)}]",
            "Waiting for application startup.",
            f"{service} {version} ready",
            f"Uvicorn running on http://0.0.0.0:{port} (Press CTRL+C to quit)",
        ]
    if runtime == "node":
        return [f"> {service}@{version.lstrip('v')} start", f"{service} listening on port {port}"]
    return [
        f"starting {service} version={version} commit={hexs(r, 7)} go=go1.22.{r.randint(0, 5)}",
        f"listening on :{port}",
    ]


def gc_line(r: R, runtime: str, pause: float) -> str:
    if runtime == "java":
        before = r.randint(300, 1500)
        return (
            f"[gc] GC({r.randint(100, 99999)}) Pause Young (Normal) (G1 Evacuation Pause) "
            f"{before}M->{r.randint(60, before // 2)}M({r.choice((1024, 2048))}M) {pause * 1000:.3f}ms"
        )
    return f"gc {r.randint(100, 9999)} @{r.uniform(100, 90000):.3f}s {r.randint(0, 4)}%: 0.{r.randint(10, 99)}+{pause * 1000:.1f}+0.0{r.randint(10, 99)} ms clock"


CHRONIC_WARNINGS: tuple[Callable[[R, str], str], ...] = (
    lambda r, s: (
        "Deprecated configuration property 'spring.redis.host' is used; use 'spring.data.redis.host'"
    ),
    lambda r, s: (
        f"slow query detected ({r.randint(500, 1900)} ms): SELECT * FROM {s.replace('-', '_')}_audit WHERE created_at > $1"
    ),
    lambda r, s: (
        f"certificate for upstream metrics-collector.monitoring.svc expires in {r.randint(20, 60)} days"
    ),
    lambda r, s: f"request payload larger than 1MB ({r.randint(1100, 4000)}KB) from client {public_ip(r)}",
    lambda r, s: "retrying publish to analytics topic (attempt 2/5): broker not available",
    lambda r, s: f"JWT for user {r.randint(1, 500000)} expires in less than 60s, client should refresh",
)

BACKGROUND_ERRORS: tuple[Callable[[R, str], str], ...] = (
    lambda r, s: (
        f"client closed request before response was sent (499) path=/v1/{s}/{r.randint(1000, 99999)}"
    ),
    lambda r, s: (
        f"request validation failed: field 'email' must be a well-formed email address (user {r.randint(1, 500000)})"
    ),
    lambda r, s: f"failed to decode request body: unexpected EOF (content-length={r.randint(10, 4000)})",
    lambda r, s: f"idempotency key {uuid(r)} already used, rejecting duplicate request",
)


def job_line(r: R, job: str, started: bool) -> str:
    if started:
        return f"Starting scheduled job '{job}' (run id {uuid(r)})"
    return f"Scheduled job '{job}' finished in {r.randint(300, 45000)} ms, {r.randint(0, 5000)} rows affected"


def slow_line(r: R, op: str, seconds: float) -> str:
    return f"slow request: {fill_path(r, op)} took {ms(r, seconds)}ms (threshold 1000ms)"


def gc_pressure_line(r: R, runtime: str, frac: float, limit_mb: int) -> str:
    """A memory-pressure warning at ``frac`` of the ``limit_mb`` heap/container limit."""
    pct = min(frac * 100 * r.uniform(0.97, 1.02), 99.6)
    used = int(limit_mb * pct / 100)
    gc_share = int(min(98, max(5, (frac - 0.75) * 300 * r.uniform(0.7, 1.3))))
    if runtime == "java":
        return r.choice(
            (
                f"[gc] GC({r.randint(1000, 99999)}) Pause Full (G1 Compaction Pause) {used}M->{int(used * r.uniform(0.93, 0.99))}M({limit_mb}M) {r.uniform(400, 4000):.3f}ms",
                f"GC overhead: {gc_share}% of time spent in GC over the last 60 s, heap usage {pct:.0f}% ({used}M/{limit_mb}M) after full GC",
                f"heap usage {pct:.0f}% after full GC; old gen is not shrinking",
            )
        )
    if runtime == "go":
        return f"memory pressure: heap {used}MiB of GOMEMLIMIT={limit_mb}MiB, GC CPU fraction {gc_share}%"
    if runtime == "node":
        return (
            f"[1:0x{hexs(r, 7)}] Mark-Compact (reduce) {used:.1f} ({limit_mb}.0) -> {used * 0.99:.1f} ({limit_mb}.0) MB, "
            f"{r.uniform(300, 2500):.2f} / 0.00 ms  (average mu = 0.{r.randint(100, 199)}) allocation failure; GC in old space requested"
        )
    return f"worker {r.randint(7, 90)} memory usage {used}MB ({pct:.0f}% of {limit_mb}MB limit), GC collected {r.randint(0, 40)} objects"
