"""The root-cause ranking tool: fuses every source's findings into typed, ranked candidates."""

from __future__ import annotations

from day2ai.analysis.fusion import Candidate, Signals, rank
from day2ai.analysis.signatures import symptom_kind
from day2ai.timeutil import to_datetime
from day2ai.tools import evidence
from day2ai.tools import signals as sig
from day2ai.tools.base import Investigation, tool


async def signals(inv: Investigation) -> Signals:
    """Everything fusion looks at, from the investigation's cached analyses."""
    return Signals(
        periods=await sig.periods(inv),
        graph=await sig.call_graph(inv),
        metrics=await sig.metric_profiles(inv),
        logs=await sig.log_analysis(inv),
        traces=await sig.trace_analysis(inv),
        patterns=await sig.pattern_analysis(inv),
        changes=await sig.scored_changes(inv),
        components=await sig.known_components(inv),
        symptom=inv.incident.symptom.service,
        symptom_kind=symptom_kind(
            inv.incident.symptom.description,
            inv.incident.symptom.alert.name if inv.incident.symptom.alert else None,
            inv.incident.title,
        ),
    )


async def candidates(inv: Investigation) -> list[Candidate]:
    """Ranked root-cause candidates (cached; reads each source at most once)."""

    async def make() -> list[Candidate]:
        return rank(await signals(inv), top=10)

    return await sig.cached(inv, "candidates", make)


@tool
async def rank_root_causes(inv: Investigation, limit: int = 5) -> str:
    """Rank root-cause candidates by fusing metrics, logs, traces, changes and the call graph.

    Ranking follows causal position (onset order along the call graph, where errors originate,
    which anomalies explain the others), not loudness. Each line: rank, component, fault word,
    score, confidence, onset, the evidence ids that support it.

    Args:
        limit: how many candidates to list.
    """
    cands = await candidates(inv)
    if not cands:
        return "No anomalous component found."
    lines = []
    for i, c in enumerate(cands[: max(1, limit)], start=1):
        ids = []
        for key in c.supporting[:5]:
            ev = await evidence.evidence_for(inv, key)
            if ev is not None:
                ids.append(ev.id)
        onset = to_datetime(c.onset).strftime("%H:%M:%S") if c.onset else "?"
        why = f"; {'; '.join(c.reasons)}" if c.reasons else ""
        lines.append(
            f"{i}. {c.service} {c.fault.value} score={c.score:.2f} conf={c.confidence:.2f} "
            f"onset={onset} evidence={','.join(ids) or '-'}{why}"
        )
    return "\n".join(lines)
