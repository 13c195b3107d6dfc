"""Text signatures of fault types and component names in free text (log lines, span attributes).

Pure, conservative keyword families: each maps to one fault word of the taxonomy. They only
*hint*; fusion weighs them with metrics, traces and changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from day2ai.models import Fault

# Most specific first: a line counts for its first matching family (see :func:`fault_hints`).
_FAMILIES: tuple[tuple[Fault, tuple[str, ...]], ...] = (
    (
        Fault.CERTIFICATE_EXPIRY,
        (
            r"x509",
            r"certificate",
            r"cert(ificate)? (has )?expired",
            r"tls handshake",
            r"ssl handshake",
            r"handshake fail",
            r"ssl(exception|error)",
            r"pkix",
        ),
    ),
    (
        Fault.CONFIG_ERROR,
        (
            r"invalid (setting|value|option|parameter|config)",
            r"missing (required )?(key|setting|env|variable|config)",
            r"unknown (option|setting|config)",
            r"misconfigur",
            r"cannot be parsed",
            r"could not parse config",
            r"config(uration)? (error|invalid|missing|reload failed)",
            r"feature.?flag",
            r"environment variable .* (not set|missing)",
        ),
    ),
    (
        Fault.MEMORY_LEAK,
        (
            r"out ?of ?memory",
            r"outofmemory",
            r"\boom",
            r"oomkill",
            r"memory (limit|pressure|exhausted)",
            r"heap (space|exhausted)",
            r"gc overhead",
            r"cannot allocate memory",
            r"killed process",
            r"java heap",
        ),
    ),
    (
        Fault.DISK_FULL,
        (
            r"no space left",
            r"disk (is )?full",
            r"enospc",
            r"disk quota",
            r"read-only file ?system",
            r"volume (is )?full",
            r"filesystem (is )?full",
            r"not enough (disk )?space",
        ),
    ),
    (
        Fault.TRAFFIC_SURGE,
        (
            r"rate.?limit",
            r"too many requests",
            r"\b429\b",
            r"throttl",
            r"queue (is )?full",
            r"overload",
            r"backpressure",
            r"load shed",
            r"shedding",
            r"request queue",
            r"thread ?pool",
            r"worker pool",
            r"inflight",
            r"in-flight",
        ),
    ),
    (
        Fault.CONNECTION_POOL_EXHAUSTION,
        (
            r"pool (is )?(exhausted|full|empty)",
            r"(connection|conn|client|db|database) ?pool",
            r"queuepool",
            r"pool limit",
            r"waiting for (a |an )?(idle |free )?connection",
            r"too many (open )?connections",
            r"max(imum)?[ _-]?(pool|connections)",
            r"acquire (a )?connection",
            r"no (idle|available|free) connections",
            r"hikari",
            r"pool timeout",
            r"connection is not available",
        ),
    ),
    (
        Fault.DEPENDENCY_FAILURE,
        (
            r"service unavailable",
            r"\b503\b",
            r"bad gateway",
            r"read[- ]?only",
            r"too many clients",
            r"too many connections",
            r"max(imum)? (number of )?(connections|clients) reached",
            r"loading the dataset",
            r"\bloading\b.*\bdataset",
            r"upstream (error|unavailable|connect error)",
            r"failover",
            r"no primary",
            r"not the leader",
        ),
    ),
    (
        Fault.SERVICE_CRASH,
        (
            r"segfault",
            r"segmentation fault",
            r"core dumped",
            r"crash",
            r"back-?off restarting",
            r"exited with",
            r"exit code",
            r"sigkill",
            r"sigterm",
            r"sigabrt",
            r"process (exited|terminated)",
            r"(liveness|readiness) probe failed",
            r"no healthy upstream",
            r"connection refused",
            r"econnrefused",
            r"no endpoints",
            r"shutting down",
        ),
    ),
    (
        Fault.PACKET_LOSS,
        (
            r"connection reset",
            r"econnreset",
            r"reset by peer",
            r"broken pipe",
            r"packet loss",
            r"packets? dropped",
            r"retransmi",
            r"unexpected eof",
            r"network is unreachable",
            r"host unreachable",
            r"socket hang up",
            r"after reset",
        ),
    ),
    (
        Fault.NETWORK_DELAY,
        (
            r"timed? ?out",
            r"timeout",
            r"deadline exceeded",
            r"took too long",
            r"slow (call|response|request)",
            r"high latency",
        ),
    ),
    (
        Fault.CODE_ERROR,
        (
            r"exception",
            r"traceback",
            r"stack ?trace",
            r"null ?pointer",
            r"nil pointer",
            r"undefined",
            r"typeerror",
            r"keyerror",
            r"valueerror",
            r"indexerror",
            r"attributeerror",
            r"assert",
            r"unhandled",
            r"panic",
            r"unexpected (null|nil|value)",
            r"cannot read propert",
            r"illegal(state|argument)",
            r"is not a function",
            r"classcast",
            r"nosuchmethod",
        ),
    ),
)
_HINTS: tuple[tuple[Fault, re.Pattern[str]], ...] = tuple(
    (fault, re.compile("|".join(words), re.I)) for fault, words in _FAMILIES
)

_ERRORISH = re.compile(
    r"error|exception|fail|fatal|panic|refused|timed? ?out|denied|unavailable|x509|invalid|cannot|unable|"
    r"reset|exhaust|oom|killed|crash|abort|unreachable|reject|traceback|expired|too many",
    re.I,
)

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]|[A-Za-z0-9]")
# the host of a URL, after any ``user[:password]@`` (a user name is not a component)
_URL_HOST = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^\s/@]*@)?([A-Za-z0-9.-]+)")
_CODE_FILE = re.compile(r"\.(java|go|py|js|mjs|ts|rb|cs|kt|scala|c|cc|cpp|h|rs|php|ex|exs|swift|class|jar)$")
_HOST_PORT = re.compile(r"(?<![\w.:/-])([A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*):\d{2,5}\b(?!@)")


def fault_hints(text: str) -> list[Fault]:
    """Fault words whose keyword family appears in ``text``, most specific first."""
    return [fault for fault, pattern in _HINTS if pattern.search(text)]


def is_errorish(text: str) -> bool:
    return _ERRORISH.search(text) is not None


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


class ComponentMatcher:
    """Finds known component names (and unknown host names) mentioned in free text."""

    def __init__(self, components: Iterable[str]):
        self._names: dict[str, str] = {}
        for c in components:
            n = _norm(c)
            if len(n) >= 3:
                self._names[n] = c

    def known(self, text: str, exclude: str | None = None) -> list[str]:
        """Known components named in ``text`` (as a word, a host name's first label, or host:port)."""
        found: dict[str, None] = {}
        skip = _norm(exclude) if exclude else None
        for word in _WORD.findall(text):
            w = _norm(word)
            candidates = [w]
            if "." in w:
                candidates.append(w.split(".", 1)[0])
            for cand in candidates:
                name = self._names.get(cand)
                if name is not None and cand != skip:
                    found.setdefault(name, None)
                    break
        return list(found)

    def hosts(self, text: str) -> list[str]:
        """Host names in URLs or host:port endpoints that are not known components."""
        out: dict[str, None] = {}
        for m in [*_URL_HOST.finditer(text), *_HOST_PORT.finditer(text)]:
            host = m.group(1).lower().rstrip(".")
            if not host or host.replace(".", "").isdigit() or host == "localhost" or _CODE_FILE.search(host):
                continue
            if _norm(host) in self._names or _norm(host.split(".", 1)[0]) in self._names:
                continue
            out.setdefault(host, None)
        return list(out)


_SYMPTOM_ERRORS = re.compile(r"error|5\d\dx?\b|5xx|fail|unavailable|exception|crash|down\b|refused", re.I)
_SYMPTOM_LATENCY = re.compile(r"latency|slow|p9\d|timeout|timed out|response time|duration|lag\b", re.I)


def symptom_kind(*texts: str | None) -> str | None:
    """'errors' or 'latency' when the alert/symptom text names one of them (and not both), else None."""
    text = " ".join(t for t in texts if t)
    errors, latency = bool(_SYMPTOM_ERRORS.search(text)), bool(_SYMPTOM_LATENCY.search(text))
    if errors == latency:
        return None
    return "errors" if errors else "latency"
