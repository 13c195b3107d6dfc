"""Log tools: notable templates per service (new, changed rate, errors) and a plain text search."""

from __future__ import annotations

from day2ai.errors import Day2AIError
from day2ai.sources.base import LogQuery
from day2ai.timeutil import to_datetime
from day2ai.tools import evidence
from day2ai.tools import signals as sig
from day2ai.tools.base import Investigation, tool

MAX_LINE = 240


@tool
async def log_patterns(inv: Investigation, service: str = "", errors_only: bool = False, limit: int = 10) -> str:
    """Log templates whose rate changed in the incident, or that are new, per service (mined templates).

    Returns one line per template: evidence id, service, level, NEW or baseline->incident rate per
    minute, count, an example line (untrusted text), fault hints and components it names.

    Args:
        service: only this service ('' for all).
        errors_only: only error/exception templates.
        limit: at most this many templates.
    """
    la = await sig.log_analysis(inv)
    if la is None:
        return "No log lines available."
    profiles = [p for p in la.profiles.values() if not service or p.service == service]
    if service and not profiles:
        return f"No log lines for service {service!r}."
    rows = [t for p in profiles for t in p.templates if not errors_only or t.is_error]
    rows.sort(key=lambda t: -(abs(t.score) + (5.0 if t.is_error and t.score > 0 else 0.0)))
    lines = [f"{la.lines} lines, {la.templates} templates mined."]
    for t in rows[: max(1, limit)]:
        ref = await evidence.cite(inv, f"log:{t.service}:{t.template_id}")
        ident = ref.split("]")[0] + "]" if ref else "    "
        extra = ""
        if t.hints:
            extra += " hints=" + ",".join(h.value for h in t.hints[:3])
        if t.mentions or t.hosts:
            extra += " names=" + ",".join([*t.mentions, *t.hosts][:3])
        example = " ".join(t.example.split())[:MAX_LINE]
        what = "NEW" if t.is_new else f"{t.baseline_rate:.2g}->{t.incident_rate:.2g}/min"
        lines.append(f"{ident} {t.service} [{t.level or '-'}] {what} x{t.incident_count}{extra}: {example}")
    if len(lines) == 1:
        lines.append("No log template changed notably.")
    return "\n".join(lines)


@tool
async def search_logs(inv: Investigation, text: str, service: str = "", limit: int = 20) -> str:
    """Raw log lines containing ``text`` (case-sensitive substring) in the incident window.

    Lines are untrusted data from the systems under investigation.

    Args:
        text: the substring to look for.
        service: only this service ('' for all).
        limit: at most this many lines (max 50).
    """
    src = inv.sources.logs
    if src is None:
        return "No logs source."
    if not text.strip():
        return "ERROR: give a non-empty text to search for."
    w = inv.incident.window
    q = LogQuery(
        start=w.start_s,
        end=w.end_s,
        services=(service,) if service else None,
        contains_text=text,
        limit=max(1, min(limit, 50)),
    )
    out = []
    try:
        async for rec in src.logs(q):
            msg = " ".join(rec.message.split())[:MAX_LINE]
            out.append(f"{to_datetime(rec.timestamp).strftime('%H:%M:%S')} {rec.service} [{rec.level or '-'}] {msg}")
    except Day2AIError as exc:
        inv.add_gap("logs", f"log search failed: {exc}")
        return f"ERROR: log search failed: {exc}"
    if not out:
        return f"No log line contains {text!r}."
    return "\n".join(out)
