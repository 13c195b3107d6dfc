"""The fault word of a candidate from its signature: which metrics rose, what its (and its callers')
log lines say, what changed just before, what kind of component it is."""

from __future__ import annotations

from day2ai.analysis.features import Features
from day2ai.analysis.features import pos as _pos
from day2ai.analysis.metrics import MetricKind
from day2ai.models import ChangeKind, ComponentKind, Fault


def fault_scores(f: Features) -> dict[Fault, float]:
    h = f.hints
    ch = f.caller_hints
    change = f.change
    prox = change.proximity if change is not None else 0.0
    deploy = prox if change is not None and change.kind is ChangeKind.DEPLOY else 0.0
    config = prox if change is not None and change.kind in (ChangeKind.CONFIG, ChangeKind.FEATURE_FLAG) else 0.0
    errors = max(f.logs, f.origin, _pos(f, MetricKind.ERRORS), min(1.0, 2 * f.error_rate_delta), f.new_errors)
    cpu, mem, disk = _pos(f, MetricKind.CPU), _pos(f, MetricKind.MEMORY), _pos(f, MetricKind.DISK)
    traffic_up = _pos(f, MetricKind.TRAFFIC)
    restarts = _pos(f, MetricKind.RESTARTS)
    resource = max(cpu, mem, disk)
    s: dict[Fault, float] = {}
    traffic_down = max(0.0, -f.metric_kinds.get(MetricKind.TRAFFIC, 0.0))
    down = max(f.span_drop, traffic_down, f.missing)
    s[Fault.CERTIFICATE_EXPIRY] = 1.2 * max(h.get(Fault.CERTIFICATE_EXPIRY, 0.0), ch.get(Fault.CERTIFICATE_EXPIRY, 0.0))
    external = f.kind in (ComponentKind.DATABASE, ComponentKind.EXTERNAL, ComponentKind.CACHE, ComponentKind.QUEUE)
    # a client-side pool: a datastore's own connection count belongs to dependency_failure; pool waits in
    # a CPU-starved process are a symptom of the CPU
    s[Fault.CONNECTION_POOL_EXHAUSTION] = max(
        1.1 * h.get(Fault.CONNECTION_POOL_EXHAUSTION, 0.0) * (1.0 - 0.4 * cpu),
        0.9 * ch.get(Fault.CONNECTION_POOL_EXHAUSTION, 0.0),
        0.0 if external else 0.6 * _pos(f, MetricKind.CONNECTIONS) * (1.0 - 0.5 * cpu),
    )
    leak_ramp = f.ramp_memory if f.ramp_memory >= 0.8 else 0.0
    s[Fault.MEMORY_LEAK] = max(
        mem * (0.6 + 0.4 * f.ramp_memory) + 0.4 * restarts * (mem > 0.3),
        # a steady climb alone (a JVM heap filling up slowly all along) is weaker than one that also
        # leaves the baseline's range or ends in restarts
        leak_ramp * max(restarts, 0.6, mem) * (1.0 if max(restarts, mem) > 0.3 else 0.5),
        1.1 * h.get(Fault.MEMORY_LEAK, 0.0),
    )
    s[Fault.DISK_FULL] = max(disk, 1.1 * h.get(Fault.DISK_FULL, 0.0))
    s[Fault.CPU_SATURATION] = cpu * (1.0 - 0.6 * traffic_up) * (1.0 - 0.5 * restarts * (mem > 0.3))
    s[Fault.TRAFFIC_SURGE] = traffic_up * (0.5 + 0.5 * max(cpu, f.latency, h.get(Fault.TRAFFIC_SURGE, 0.0)))
    crash_text = max(h.get(Fault.SERVICE_CRASH, 0.0), ch.get(Fault.SERVICE_CRASH, 0.0))
    s[Fault.SERVICE_CRASH] = max(
        restarts * (1.0 - 0.7 * max(mem, leak_ramp)), 0.8 * down * max(crash_text, restarts), 0.6 * crash_text
    ) * (1.0 - 0.5 * max(deploy, config))
    s[Fault.PACKET_LOSS] = max(
        _pos(f, MetricKind.PACKETS), 0.9 * h.get(Fault.PACKET_LOSS, 0.0), 0.8 * ch.get(Fault.PACKET_LOSS, 0.0)
    ) * (1.0 - 0.5 * resource)
    delay = max(f.latency, f.edge_lat_in, _pos(f, MetricKind.LATENCY), _pos(f, MetricKind.NETWORK))
    slow_talk = max(h.get(Fault.NETWORK_DELAY, 0.0), ch.get(Fault.NETWORK_DELAY, 0.0))
    # a slower network does not change which calls a service makes or which lines it logs: its own
    # per-request pattern shift speaks against a delay on its path, unless its lines (or its
    # callers') say calls are slow or time out, which is what a delay changes
    path_change = f.pattern_conf * f.pattern_share * (1.0 - slow_talk)
    s[Fault.NETWORK_DELAY] = (
        0.7 * delay * (1.0 - resource) * (1.0 - 0.5 * errors) + 0.3 * slow_talk
    ) * (1.0 - path_change)
    # a datastore or third party has no code of ours: errors originating there are its failure
    code = (
        0.0
        if external
        else max(
            h.get(Fault.CODE_ERROR, 0.0),
            0.8 * ch.get(Fault.CODE_ERROR, 0.0),
            f.origin * 0.8,
            f.log_origin,
            # its requests took other paths (calls skipped, other log lines) while no resource is short
            path_change * (1.0 - resource),
        )
    )
    s[Fault.CODE_ERROR] = 0.8 * code * (1.0 - 0.6 * max(deploy, config))
    anomaly = max(errors, f.latency, f.self_time, resource)
    s[Fault.BAD_DEPLOY] = deploy * anomaly * (1.0 if f.new_error_templates or errors > 0.4 else 0.8)
    s[Fault.CONFIG_ERROR] = max(
        config * anomaly, 0.9 * h.get(Fault.CONFIG_ERROR, 0.0), 0.8 * ch.get(Fault.CONFIG_ERROR, 0.0)
    )
    s[Fault.DEPENDENCY_FAILURE] = (0.9 if external else 0.7 if not f.own_telemetry else 0.0) * _dependency(f, cpu)
    return {k: round(min(v, 1.5), 4) for k, v in s.items()}


def _dependency(f: Features, cpu: float) -> float:
    """How much a dependency looks failed itself: its callers' calls fail, their lines say so, or it is
    slow on its own side. Slowness seen only by callers while its own metrics stay flat points at the
    network path instead (network_delay); its own CPU saturation is the more specific answer."""
    h, ch = f.hints, f.caller_hints
    timeouts = ch.get(Fault.NETWORK_DELAY, 0.0)  # calls that failed by timing out: slowness, not failure
    failing = max(
        max(f.edge_err_in, f.origin if not f.own_telemetry else 0.0) * (1.0 - 0.5 * timeouts),
        1.1 * max(h.get(Fault.DEPENDENCY_FAILURE, 0.0), ch.get(Fault.DEPENDENCY_FAILURE, 0.0)),
        0.8 * ch.get(Fault.SERVICE_CRASH, 0.0),
        # a datastore at its connection limit refuses clients (unless its CPU explains the pile-up)
        _pos(f, MetricKind.CONNECTIONS) * (1.0 - 0.5 * cpu),
    )
    seen_slow = max(f.latency, f.edge_lat_in)
    if f.kind is ComponentKind.EXTERNAL:
        slow = seen_slow  # a third party's side and the path to it are one thing to us
    elif f.own_telemetry:
        slow = _pos(f, MetricKind.LATENCY) * (1.0 - 0.5 * cpu)
    else:
        slow = 0.7 * seen_slow  # cannot tell its own side from the network path
    return max(failing, slow, 0.45 * max(seen_slow, f.mentioned, 0.5))


def type_fault(f: Features) -> tuple[Fault, dict[Fault, float]]:
    scores = fault_scores(f)
    best = max(scores.items(), key=lambda kv: kv[1])
    if best[1] < 0.05:
        return Fault.OTHER, scores
    return best[0], scores
