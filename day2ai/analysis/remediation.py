"""Remediation suggestions per fault word. Suggestions only: anything that changes a system needs approval."""

from __future__ import annotations

from day2ai.models import Fault, Remediation, Risk

_S = tuple[str, str, Risk, bool]  # action, rationale, risk, changes the system

_BY_FAULT: dict[Fault, tuple[_S, ...]] = {
    Fault.CPU_SATURATION: (
        (
            "Scale out {svc} (add replicas) or raise its CPU limit",
            "CPU is saturated or throttled",
            "medium",
            True,
        ),
        (
            "Profile {svc} for hot code paths and look for a runaway job or noisy neighbour",
            "find why",
            "low",
            False,
        ),
    ),
    Fault.MEMORY_LEAK: (
        (
            "Restart {svc} pods on a rolling basis to reclaim memory",
            "buys time while memory grows",
            "medium",
            True,
        ),
        (
            "Roll back {svc} to the last version without the memory growth, or raise its memory limit",
            "stops OOM kills",
            "medium",
            True,
        ),
        ("Capture a heap profile of {svc} to find the leak", "root-cause the growth", "low", False),
    ),
    Fault.DISK_FULL: (
        (
            "Free disk space on {svc} (rotate/clean logs, temp files) or expand the volume",
            "disk is exhausted",
            "medium",
            True,
        ),
        ("Check log rotation and retention settings of {svc}", "prevent recurrence", "low", False),
    ),
    Fault.NETWORK_DELAY: (
        (
            "Check the network path to {svc} (node, CNI, service mesh, cross-zone traffic)",
            "calls to it are slow",
            "low",
            False,
        ),
        (
            "Move traffic away from the affected node/zone or reschedule {svc} pods",
            "avoid the slow path",
            "medium",
            True,
        ),
    ),
    Fault.PACKET_LOSS: (
        (
            "Inspect interfaces and retransmits of the nodes running {svc}; drain a faulty node",
            "packets are lost",
            "medium",
            True,
        ),
        ("Check network policies and mesh sidecars around {svc}", "connection resets", "low", False),
    ),
    Fault.SERVICE_CRASH: (
        (
            "Restart {svc} or roll back its last change, and check its crash logs and exit codes",
            "the process is down or crash-looping",
            "medium",
            True,
        ),
        ("Check readiness/liveness probes and resource limits of {svc}", "why it dies", "low", False),
    ),
    Fault.CODE_ERROR: (
        (
            "Roll back {svc} to the previous version or disable the failing code path",
            "new exceptions in its own code",
            "medium",
            True,
        ),
        ("Open a bug for {svc} with the exception and stack trace", "fix the defect", "low", False),
    ),
    Fault.BAD_DEPLOY: (
        ("Roll back the recent deploy of {svc}", "the failure started right after it", "medium", True),
        ("Pause further rollouts of {svc} and diff the release", "contain and explain", "low", False),
    ),
    Fault.CONFIG_ERROR: (
        (
            "Revert the recent configuration or feature-flag change of {svc}",
            "the failure started after it",
            "medium",
            True,
        ),
        (
            "Validate {svc} configuration against its schema before re-applying",
            "prevent recurrence",
            "low",
            False,
        ),
    ),
    Fault.DEPENDENCY_FAILURE: (
        (
            "Check the health of {svc} (status page, database metrics) and fail over if possible",
            "callers fail or slow down on it",
            "medium",
            True,
        ),
        (
            "Enable circuit breaking / fallbacks in the callers of {svc}",
            "limit the blast radius",
            "medium",
            True,
        ),
    ),
    Fault.CONNECTION_POOL_EXHAUSTION: (
        (
            "Increase the connection pool size of {svc} (or roll back the change that lowered it)",
            "clients wait on pooled connections",
            "medium",
            True,
        ),
        (
            "Look for leaked connections or slow queries holding connections in {svc}",
            "why the pool drains",
            "low",
            False,
        ),
    ),
    Fault.CERTIFICATE_EXPIRY: (
        ("Renew and rotate the TLS certificate used by {svc}", "x509 / handshake failures", "medium", True),
        (
            "Check certificate expiry monitoring and cert-manager renewals for {svc}",
            "prevent recurrence",
            "low",
            False,
        ),
    ),
    Fault.TRAFFIC_SURGE: (
        (
            "Scale out {svc} and enable rate limiting or load shedding at the entry point",
            "load beyond capacity",
            "medium",
            True,
        ),
        (
            "Identify the traffic source (client, bot, retry storm) hitting {svc}",
            "stop the surge",
            "low",
            False,
        ),
    ),
    Fault.OTHER: (
        (
            "Inspect {svc}: its recent changes, logs and resource usage",
            "the evidence points at it",
            "low",
            False,
        ),
    ),
}


def suggest(service: str, fault: Fault) -> list[Remediation]:
    """Suggested actions for ``fault`` at ``service``; system-changing ones require approval."""
    out = []
    for action, why, risk, changes in _BY_FAULT.get(fault, _BY_FAULT[Fault.OTHER]):
        out.append(
            Remediation(
                action=action.format(svc=service),
                rationale=why,
                risk=risk if changes else "low",
                requires_approval=changes,
            )
        )
    return out
