"""Trace tools: call-graph edges that changed, where errors originate, where latency is spent."""

from __future__ import annotations

from day2ai.analysis.metrics import strength
from day2ai.analysis.traces import TraceServiceProfile
from day2ai.tools import evidence
from day2ai.tools import signals as sig
from day2ai.tools.base import Investigation, tool


@tool
async def trace_summary(inv: Investigation, service: str = "", limit: int = 10) -> str:
    """Span-derived changes: per service latency/self-time/error shifts and error origins, and the
    caller->callee edges whose latency or error rate changed most (incident vs baseline).

    Args:
        service: only this service and its edges ('' for all).
        limit: lines per section.
    """
    ta = await sig.trace_analysis(inv)
    if ta is None:
        return "No spans available."
    profs = [p for p in ta.profiles.values() if not service or p.service == service]
    if service and not profs:
        return f"No spans for service {service!r}."

    def prof_key(p: TraceServiceProfile) -> float:
        return -max(strength(p.self_time_z), strength(p.latency_z), p.origin_share)

    profs.sort(key=prof_key)
    lines = [f"{ta.spans} spans; status {'present' if ta.has_status else 'absent (errors inferred)'}."]
    lines.append("Services:")
    for p in profs[: max(1, limit)]:
        ref = await evidence.cite(inv, f"trace:{p.service}")
        lines.append(f"  {ref or p.describe()}" + (" (seen only through callers)" if p.peer_only else ""))
    edges = [e for e in ta.edges if not service or service in (e.caller, e.callee)]
    edges.sort(key=lambda e: -max(strength(e.latency_z), 2 * max(0.0, e.incident_error_rate - e.baseline_error_rate)))
    lines.append("Edges:")
    for e in edges[: max(1, limit)]:
        ref = await evidence.cite(inv, f"edge:{e.caller}->{e.callee}")
        lines.append(f"  {ref or e.describe()}")
    return "\n".join(lines)
