# ruff: noqa: E501  (message templates read better as one line each)
"""Error and warning messages: a component's own failures and its callers' call failures.

The text names what a real client library would name: the callee's host and port, an IP, or
nothing at all. Exceptions come with stack traces in the runtime's own format.
"""

from __future__ import annotations

import zlib

from day2ai.evaluation.simulator.templates import R, cls, hexs, ip, pkg, uuid
from day2ai.evaluation.simulator.topology import Component


def _pick(key: str, options: tuple[str, ...]) -> str:
    """A choice that is fixed for a given key (stable across runs, no hash randomisation)."""
    return options[zlib.crc32(key.encode()) % len(options)]


def _java_trace(service: str, head: str, depth: int = 5) -> str:
    base = pkg(service)
    frames = [
        f"{base}.{cls(service)}Service.handle({cls(service)}Service.java:{87 + depth * 11})",
        f"{base}.web.{cls(service)}Controller.post({cls(service)}Controller.java:{41 + depth})",
        "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
        "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
        "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)",
        "java.base/java.lang.Thread.run(Thread.java:840)",
    ]
    return head + "".join(f"\n\tat {f}" for f in frames[:depth])


def _py_trace(service: str, head: str) -> str:
    mod = service.replace("-", "_")
    return (
        "Traceback (most recent call last):\n"
        f'  File "/app/{mod}/handlers.py", line 142, in handle\n    result = await self.service.process(req)\n'
        f'  File "/app/{mod}/service.py", line 87, in process\n    return build_response(item)\n'
        f"{head}"
    )


def _go_panic(service: str, head: str) -> str:
    mod = service.replace("-", "")
    return (
        f"panic: {head}\n\ngoroutine {abs(zlib.crc32(service.encode())) % 900 + 17} [running]:\n"
        f"github.com/acme/{service}/internal/{mod}.(*Handler).Serve(0xc000{hexs_fixed(service)})\n"
        f"\t/src/internal/{mod}/handler.go:118 +0x1d4\nnet/http.HandlerFunc.ServeHTTP(...)\n"
        "\t/usr/local/go/src/net/http/server.go:2166"
    )


def hexs_fixed(key: str) -> str:
    return f"{zlib.crc32(key.encode()) & 0xFFFFFF:06x}"


def _node_trace(service: str, head: str) -> str:
    return (
        f"{head}\n    at {cls(service)}Service.handle (/usr/src/app/src/services/{service}.js:88:31)\n"
        "    at processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
        f"    at async /usr/src/app/src/routes/{service}.js:41:20"
    )


def exception(r: R, comp: Component, flavour: str) -> str:
    """A defect's exception in ``comp``'s runtime; ``flavour`` keys a stable choice of defect."""
    key = comp.name + flavour
    s = comp.name
    field = _pick(
        key + "f", ("discount", "currency_code", "shipping_address", "tier", "price", "locale", "items")
    )
    if comp.runtime == "java":
        head = _pick(
            key,
            (
                f'java.lang.NullPointerException: Cannot invoke "{pkg(s)}.model.{field.capitalize()}.getValue()" because "req.{field}" is null',
                f"java.lang.IllegalArgumentException: No enum constant {pkg(s)}.model.Status.{field.upper()}",
                f"java.lang.ClassCastException: class java.lang.String cannot be cast to class java.math.BigDecimal ({field})",
                f"java.lang.NoSuchMethodError: 'void {pkg(s)}.client.{cls(s)}Client.send({field.capitalize()})'",
            ),
        )
        return f"Request processing failed; nested exception is {_java_trace(s, head, r.randint(3, 6))}"
    if comp.runtime == "python":
        head = _pick(
            key,
            (
                f"KeyError: '{field}'",
                f"AttributeError: 'NoneType' object has no attribute '{field}'",
                f"TypeError: unsupported operand type(s) for +: 'Decimal' and 'NoneType' ({field})",
                f"ValueError: invalid literal for int() with base 10: '{field}'",
            ),
        )
        return f"Exception in ASGI application\n{_py_trace(s, head)}"
    if comp.runtime == "node":
        head = _pick(
            key,
            (
                f"TypeError: Cannot read properties of undefined (reading '{field}')",
                f"TypeError: {field}.map is not a function",
                f"RangeError: Invalid time value ({field})",
            ),
        )
        return f"Unhandled error in request handler: {_node_trace(s, head)}"
    head = _pick(
        key,
        (
            "runtime error: invalid memory address or nil pointer dereference",
            f"runtime error: index out of range [{r.randint(1, 4)}] with length {r.randint(0, 1)}",
            f"interface conversion: interface {{}} is nil, not *model.{field.capitalize()}",
        ),
    )
    return f"http: panic serving {ip(r)}:{r.randint(30000, 60999)}: {_go_panic(s, head)}"


def config_error(r: R, comp: Component, flavour: str) -> str:
    key = _pick(
        comp.name + flavour,
        (
            "PAYMENT_TIMEOUT_MS",
            "ratelimit.burst",
            "db.pool.maxLifetime",
            "upstream.retry_budget",
            "CURRENCY_API_URL",
            "cache.ttl",
            "tax.region_map",
        ),
    )
    return _pick(
        comp.name + flavour + "m",
        (
            f"invalid value for '{key}': \"{r.choice(('30s', '-1', 'null', 'true'))}\" cannot be parsed, request rejected",
            f"configuration error: required key '{key}' is missing or empty; refusing request {uuid(r)}",
            f"failed to apply setting '{key}': value out of range, using undefined default -> request failed",
        ),
    )


def flag_error(r: R, comp: Component, flavour: str) -> str:
    return f"error in code path behind feature flag: {exception(r, comp, flavour + 'flag')}"


def oom_line(r: R, comp: Component) -> str:
    return {
        "java": "java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
        "python": "MemoryError: unable to allocate array (worker killed)",
        "node": "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        "go": "fatal error: runtime: out of memory",
    }[comp.runtime]


def crash_line(r: R, comp: Component, flavour: str) -> str:
    if comp.runtime == "go":
        return _go_panic(
            comp.name,
            _pick(
                comp.name + flavour,
                (
                    "runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8f4a2b]",
                    "assignment to entry in nil map",
                    "close of closed channel",
                ),
            ),
        )
    if comp.runtime == "java":
        return 'Exception in thread "main" ' + _java_trace(
            comp.name,
            _pick(
                comp.name + flavour,
                (
                    "java.lang.IllegalStateException: Failed to load ApplicationContext",
                    "java.lang.StackOverflowError",
                    "java.lang.InternalError: a fault occurred in an unsafe memory access",
                ),
            ),
            4,
        )
    if comp.runtime == "python":
        return f"Worker (pid:{r.randint(7, 90)}) was sent SIGSEGV!"
    return "process exited with code 134: Segmentation fault (core dumped)"


def own_error(r: R, cause: str, comp: Component, flavour: str) -> tuple[str, str]:
    """(level, message) for one error caused inside ``comp`` itself."""
    s = comp.name
    if cause == "bg":
        return "ERROR", _pick(
            s + str(r.randint(0, 3)),
            (
                f"failed to decode request body: unexpected EOF (content-length={r.randint(10, 4000)})",
                f"request {uuid(r)} failed: upstream request cancelled by client",
                f"unexpected error handling request {uuid(r)}: context canceled",
            ),
        )
    if cause in ("code", "deploy"):
        return "ERROR", exception(r, comp, flavour)
    if cause == "config":
        return "ERROR", config_error(r, comp, flavour)
    if cause == "flag":
        return "ERROR", flag_error(r, comp, flavour)
    if cause == "pool":
        return "ERROR", _pool_error(r, comp)
    if cause == "enospc":
        return "ERROR", _enospc(r, comp)
    if cause == "overload":
        return "WARN", _pick(
            s,
            (
                f"rejecting request: server overloaded (inflight={r.randint(200, 900)})",
                "thread pool exhausted, request queued for more than 2000ms",
                f"worker queue full ({r.randint(100, 500)} pending), shedding load",
            ),
        )
    if cause == "ratelimit":
        return (
            "WARN",
            f"rate limit exceeded for client {r.choice(('203.0.113.', '198.51.100.'))}{r.randint(1, 254)}, returning 429",
        )
    if cause == "chronic":
        return "ERROR", _pick(
            flavour,
            (
                f"failed to refresh OAuth token for webhook subscriber {r.randint(10, 99)}: 401 Unauthorized",
                f"could not deliver webhook to https://hooks.partner-{r.randint(1, 3)}.example.com/events: 410 Gone",
                f"reconcile loop: record {uuid(r)} has no matching ledger entry, skipping",
            ),
        )
    if cause == "tls_server":
        return (
            "ERROR",
            f"http: TLS handshake error from {ip(r)}:{r.randint(30000, 60999)}: remote error: tls: bad certificate",
        )
    if cause == "config_timeout":
        return (
            "ERROR",
            f"request failed: context deadline exceeded (Client.Timeout {r.choice((50, 80, 100))}ms exceeded while awaiting headers)",
        )
    return "ERROR", _dependency_server_error(r, cause, comp)


def _pool_error(r: R, comp: Component) -> str:
    if comp.runtime == "java":
        return (
            f"HikariPool-1 - Connection is not available, request timed out after {r.choice((30000, 30001, 30002))}ms.\n"
            f"\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"
        )
    if comp.runtime == "python":
        return (
            f"sqlalchemy.exc.TimeoutError: QueuePool limit of size {r.choice((5, 10))} overflow 10 reached, "
            "connection timed out, timeout 30.00"
        )
    if comp.runtime == "node":
        return "Error: timeout exceeded when trying to connect (pg-pool: all clients busy)"
    return "failed to acquire connection: timeout waiting for connection from pool (pool size exhausted)"


def _enospc(r: R, comp: Component) -> str:
    if comp.kind == "database":
        if comp.engine == "postgres":
            return f'ERROR:  could not extend file "base/16384/{r.randint(16000, 99999)}": No space left on device'
        if comp.engine == "mysql":
            return f"[ERROR] [MY-012639] [InnoDB] Write to file ./{comp.name.replace('-', '_')}/orders.ibd failed at offset {r.randint(10**6, 10**9)}: No space left on device"
        return "WiredTiger error: __posix_file_write: /data/db/collection-12.wt: handle-write: pwrite: No space left on device"
    if comp.kind == "queue":
        return f"Error while appending records to {comp.name}-{r.randint(0, 11)} in dir /var/lib/kafka/data: No space left on device"
    return r.choice(
        (
            f"failed to write /var/lib/{comp.name}/tmp/upload-{uuid(r)}.part: write: no space left on device",
            f"IOError: [Errno 28] No space left on device: '/data/{comp.name}/spool/{hexs(r, 8)}'",
        )
    )


def _dependency_server_error(r: R, cause: str, comp: Component) -> str:
    if cause == "readonly":
        return "ERROR:  cannot execute UPDATE in a read-only transaction"
    if cause == "too_many_clients":
        return "FATAL:  sorry, too many clients already" if comp.engine != "mysql" else "Too many connections"
    if cause == "loading":
        return "LOADING Redis is loading the dataset in memory"
    return f"upstream failure ({cause})"


def describe_callee(comp: Component) -> str:
    if comp.kind == "external":
        return comp.name
    return f"{comp.name}:{comp.port}"


def call_error(
    r: R,
    kind: str,
    caller: Component,
    callee: Component,
    callee_text: str | None,
    now: str = "",
    expiry: str = "",
    timeout_ms: int | None = None,
) -> str:
    """What ``caller`` logs when a call to ``callee`` fails with ``kind`` (see world.CALL_FAILURES)."""
    host = describe_callee(callee)
    addr = f"{ip(r)}:{callee.port}"
    name_it = r.random() < 0.8  # some clients only log the resolved address
    where = host if name_it or callee.kind == "external" else addr
    if kind == "refused":
        if callee.kind == "database":
            return f'could not connect to server: Connection refused\n\tIs the server running on host "{callee.name}" ({ip(r)}) and accepting TCP/IP connections on port {callee.port}?'
        return r.choice(
            (
                f"dial tcp {addr}: connect: connection refused",
                f"call to {where} failed: connect ECONNREFUSED {addr}",
                f"upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111 ({callee.name})",
                f'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp {addr}: connect: connection refused"',
            )
        )
    if kind == "tls":
        if caller.runtime == "java":
            return (
                f'I/O error on POST request for "https://{host}/": PKIX path validation failed: '
                "java.security.cert.CertPathValidatorException: validity check failed; nested exception is javax.net.ssl.SSLHandshakeException"
            )
        if caller.runtime == "python":
            return f"HTTPSConnectionPool(host='{callee.name}', port={callee.port}): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')))"
        return f'Post "https://{host}/": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time {now} is after {expiry}'
    if kind == "reset":
        return r.choice(
            (
                f"read tcp {ip(r)}:{r.randint(30000, 60999)}->{addr}: read: connection reset by peer",
                f"call to {where} failed: socket hang up (ECONNRESET)",
                f"rpc error: code = Unavailable desc = error reading from server: read tcp {addr}: connection reset by peer",
                f"request to {where} failed: unexpected EOF",
            )
        )
    if kind in ("timeout", "http5xx") and callee.kind == "service" and _anonymous(caller, callee):
        return _peerless(r, kind, caller, timeout_ms)
    if kind == "timeout":
        if caller.runtime == "java":
            return f'I/O error on GET request for "http://{host}/": Read timed out; nested exception is java.net.SocketTimeoutException: Read timed out'
        return r.choice(
            (
                f"context deadline exceeded while calling {where}",
                f'Get "http://{host}/": net/http: request canceled (Client.Timeout exceeded while awaiting headers)',
                f"upstream request timeout calling {callee.name}",
                f"TimeoutError: request to {where} timed out after {timeout_ms or r.choice((1000, 2000, 5000))}ms",
                f"context deadline exceeded (Client.Timeout {timeout_ms or r.choice((1000, 2000, 5000))}ms) calling {where}",
            )
        )
    detail = f": {callee_text.splitlines()[0]}" if callee_text else ""
    if callee.kind == "database":
        return f"query failed on {host}{detail or ': server closed the connection unexpectedly'}"
    if callee.kind == "cache":
        return f"{callee.engine} command failed on {host}{detail or ': i/o timeout'}"
    if callee.kind == "external":
        if callee_text:
            return f"{callee.name} API error: {callee_text} (request_id=req_{hexs(r, 14)})"
        status = r.choice((500, 502, 503, 503, 504))
        return f"{callee.name} API error: {status} {'Service Unavailable' if status == 503 else 'Bad Gateway' if status == 502 else 'Internal Server Error'} (request_id=req_{hexs(r, 14)})"
    status = r.choice((500, 500, 502, 503))
    return f"call to {callee.name} failed with status {status}{detail[:160]}"


def slow_call(r: R, caller: Component, callee: Component, seconds: float) -> str:
    """A client's warning that a call took longer than it should (it did not time out)."""
    where = describe_callee(callee)
    took = int(seconds * 1000)
    if caller.runtime == "java":
        return f"Slow response from http://{where}/ ({took} ms, threshold {took // 2 // 50 * 50 or 100} ms)"
    return r.choice(
        (
            f"slow call to {where}: {took}ms",
            f"call to {callee.name} took {took}ms (more than half of the deadline)",
            f"upstream {callee.name} is slow: {took}ms for one request",
        )
    )


def _anonymous(caller: Component, callee: Component) -> bool:
    """Whether this client's library logs failed calls without naming the peer (fixed per pair)."""
    return zlib.crc32(f"{caller.name}>{callee.name}".encode()) % 100 < 40


def _peerless(r: R, kind: str, caller: Component, timeout_ms: int | None) -> str:
    """A failed call as client libraries often log it: status or deadline, but no host."""
    ms = timeout_ms or r.choice((1000, 2000, 5000))
    if kind == "timeout":
        return {
            "java": "java.net.SocketTimeoutException: Read timed out",
            "node": f"AxiosError: timeout of {ms}ms exceeded",
            "python": "httpx.ReadTimeout: timed out",
            "go": "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
        }[caller.runtime]
    status = r.choice((500, 500, 502, 503))
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    return {
        "java": f'org.springframework.web.client.HttpServerErrorException: {status} {reason}: "{{"error":"{reason.lower()}"}}"',
        "node": f"AxiosError: Request failed with status code {status}",
        "python": f"upstream error: {status} {reason} (request_id={hexs(r, 16)})",
        "go": f"unexpected response status {status} from upstream",
    }[caller.runtime]
