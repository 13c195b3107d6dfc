"""Topology tools: the call graph (from topology, spans or log messages) around a component."""

from __future__ import annotations

from day2ai.tools import signals as sig
from day2ai.tools.base import Investigation, tool


@tool
async def dependencies(inv: Investigation, service: str = "") -> str:
    """Callers and callees of a component, and where each edge was learnt (topology, traces, logs).

    Args:
        service: the component ('' lists every component with its callees).
    """
    g = await sig.call_graph(inv)
    if not g.nodes:
        return "No call graph: no topology, spans or log messages naming peers."
    if not service:
        lines = [f"{len(g.nodes)} components."]
        for n in sorted(g.nodes):
            kind = g.kinds.get(n)
            callees = ", ".join(g.callees(n)) or "-"
            lines.append(f"{n}{f' ({kind.value})' if kind else ''} -> {callees}")
        return "\n".join(lines)
    if service not in g.nodes:
        return f"Unknown component {service!r}. Known: {', '.join(sorted(g.nodes)[:40])}"
    callers = ", ".join(f"{a} [{g.edges[a][service]}]" for a in g.callers(service)) or "-"
    callees = ", ".join(f"{b} [{o}]" for b, o in g.edges.get(service, {}).items()) or "-"
    kind = g.kinds.get(service)
    return f"{service}{f' ({kind.value})' if kind else ''}\ncalled by: {callers}\ncalls: {callees}"
