"""Past-incident similarity: evidence -> query text, and similar postmortems -> prior evidence.

A similar postmortem is a *prior*: it tells which root cause and fix were right last time for
similar symptoms. It is never proof, so the evidence it becomes is weak (strength at most
``PRIOR_MAX_STRENGTH``) and says so in its summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from day2ai.knowledge.types import SimilarIncident
from day2ai.models import Evidence, EvidenceSource

PRIOR_MAX_STRENGTH = 0.3
QUERY_MAX_CHARS = 1200


def evidence_query(evidence: str | Sequence[Evidence], max_chars: int = QUERY_MAX_CHARS) -> str:
    """The text to search postmortems with: the strongest evidence summaries first, capped."""
    if isinstance(evidence, str):
        return evidence[:max_chars]
    ranked = sorted(evidence, key=lambda e: -e.strength)
    parts: list[str] = []
    size = 0
    for ev in ranked:
        line = f"{ev.service}: {ev.summary}" if ev.service else ev.summary
        if size + len(line) > max_chars:
            break
        parts.append(line)
        size += len(line) + 1
    return "\n".join(parts)


def incident_summary(incident: SimilarIncident) -> str:
    """One line for a report or a model: what happened last time, with the similarity."""
    cause = " ".join(x for x in (incident.service, incident.fault.value if incident.fault else None) if x)
    text = f"similar past incident {incident.ref} (similarity {incident.similarity:.2f}, a prior, not proof)"
    if cause:
        text += f": root cause {cause}"
    if incident.root_cause:
        text += f" — {incident.root_cause[:160]}"
    if incident.fix:
        text += f"; fix: {incident.fix[:160]}"
    return text


def as_evidence(incidents: Sequence[SimilarIncident], id_prefix: str = "kb") -> list[Evidence]:
    """Similar incidents as weak knowledge evidence (strength scaled by similarity, capped)."""
    out: list[Evidence] = []
    for n, inc in enumerate(incidents, start=1):
        strength = round(min(PRIOR_MAX_STRENGTH, max(0.0, inc.similarity) * PRIOR_MAX_STRENGTH), 3)
        out.append(
            Evidence(
                id=f"{id_prefix}{n}",
                source=EvidenceSource.KNOWLEDGE,
                query=f"similar_incidents -> {inc.ref}",
                summary=incident_summary(inc),
                service=inc.service,
                strength=strength,
                data={
                    "ref": inc.ref,
                    "path": inc.path,
                    "anchor": inc.anchor,
                    "similarity": inc.similarity,
                    "fault": inc.fault.value if inc.fault else None,
                    "fix": inc.fix,
                },
            )
        )
    return out
