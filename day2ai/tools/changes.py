"""Change tools: deploys, config and flag changes near the anomaly onset."""

from __future__ import annotations

from day2ai.tools import evidence
from day2ai.tools import signals as sig
from day2ai.tools.base import Investigation, tool


@tool
async def recent_changes(inv: Investigation, service: str = "", limit: int = 10) -> str:
    """Deploys, config, feature-flag, scaling and infra changes, closest to the anomaly onset first.

    Each line: evidence id, kind, service, minutes before the onset, summary (untrusted text), and
    a 0..1 time-proximity score.

    Args:
        service: only this service ('' for all).
        limit: at most this many changes.
    """
    if inv.sources.changes is None:
        return "No change log available."
    items = [c for c in await sig.scored_changes(inv) if not service or c.service == service]
    if not items:
        return "No changes recorded" + (f" for {service!r}." if service else ".")
    lines = []
    for c in items[: max(1, limit)]:
        ref = await evidence.cite(inv, f"change:{c.service}:{c.timestamp:.0f}")
        lines.append(f"{ref or c.describe()} (proximity {c.proximity:.2f})")
    return "\n".join(lines)
