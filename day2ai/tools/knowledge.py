"""Knowledge tools: search runbooks and postmortems, and find similar past incidents.

``search_knowledge_text`` and ``similar_incidents_text`` are plain typed functions over a
:class:`~day2ai.knowledge.KnowledgeBase` (usable without an investigation); the ``@tool`` functions
``search_knowledge`` and ``similar_incidents`` expose them to investigators and the LLM, reading
the knowledge base from ``inv.knowledge``. Document text is untrusted data: results are quoted as
snippets, and similar incidents are labelled as priors, never as proof.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from day2ai.errors import KnowledgeError
from day2ai.models import Evidence, EvidenceSource, Fault
from day2ai.tokens import truncate_to_tokens
from day2ai.tools.base import Investigation, tool
from day2ai.tools.selectors import knowledge_selector

if TYPE_CHECKING:
    from day2ai.knowledge import KnowledgeBase
    from day2ai.knowledge.types import Hit

DEFAULT_MAX_TOKENS = 600
KNOWLEDGE_STRENGTH = 0.2


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def format_hits(hits: list[Hit], max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
    """Search hits as compact text: one header line and one snippet line per document."""
    if not hits:
        return "No runbook or postmortem matches."
    lines = []
    for n, hit in enumerate(hits, start=1):
        tags = ", ".join([*hit.services, *(f.value for f in hit.faults)])
        lines.append(f"{n}. [{hit.kind.value}] {hit.ref} — {hit.title} (score {hit.score:.2f}; {tags})")
        lines.append(f"   {hit.snippet}")
    return truncate_to_tokens("\n".join(lines), max_tokens)


async def search_knowledge_text(
    kb: KnowledgeBase,
    query: str,
    service: str | None = None,
    fault: str | None = None,
    k: int = 5,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> str:
    """Runbook and postmortem sections for ``query`` as compact, token-capped text."""
    hits = await kb.asearch(query, k=max(1, min(k, 10)), service=_clean(service), fault=_clean(fault))
    return format_hits(hits, max_tokens)


async def similar_incidents_text(
    kb: KnowledgeBase, description: str, k: int = 3, max_tokens: int = DEFAULT_MAX_TOKENS
) -> str:
    """Past postmortems similar to ``description`` with their root cause and fix (priors, not proof)."""
    from day2ai.knowledge.similar import incident_summary

    found = await kb.asimilar_incidents(description, k=max(1, min(k, 5)))
    if not found:
        return "No similar past incident."
    return truncate_to_tokens("\n".join(f"- {incident_summary(i)}" for i in found), max_tokens)


def _kb(inv: Investigation) -> KnowledgeBase:
    if inv.knowledge is None:
        raise KnowledgeError("no knowledge base is configured (build one with 'day2ai kb ingest DIR')")
    kb: KnowledgeBase = inv.knowledge
    return kb


@tool
async def search_knowledge(inv: Investigation, query: str, service: str = "", fault: str = "", k: int = 5) -> str:
    """Search the team's runbooks and postmortems (hybrid semantic + keyword search).

    Returns one block per document: kind, path#section, title, score, snippet. Cite runbook
    sections in remediations as path#anchor. Documents can be stale: guidance, not evidence.

    Args:
        query: symptoms, an error message, or a question, in plain words.
        service: only documents about this service ('' for all).
        fault: only documents about this fault word of the taxonomy ('' for all).
        k: number of documents to return (1-10).
    """
    kb = _kb(inv)
    hits = await kb.asearch(query, k=max(1, min(k, 10)), service=_clean(service), fault=_clean(fault))
    if hits:
        top = hits[0]
        inv.add_evidence(
            EvidenceSource.KNOWLEDGE,
            f"search_knowledge {query!r}",
            f"knowledge: {top.ref} ({top.title}) matches the query, score {top.score:.2f}",
            service=top.services[0] if top.services else None,
            strength=KNOWLEDGE_STRENGTH,
            data={"path": top.path, "anchor": top.anchor, "score": top.score},
            selector=knowledge_selector(top.path, top.anchor),
        )
    return format_hits(hits, inv.tool_token_cap)


@tool
async def similar_incidents(inv: Investigation, description: str = "", k: int = 3) -> str:
    """Past incidents (postmortems) that resemble this one, with their root cause and fix.

    A similar past incident is a prior for a hypothesis, never proof: check it against evidence.

    Args:
        description: what is happening, in plain words; '' uses the evidence gathered so far.
        k: number of incidents to return (1-5).
    """
    from day2ai.knowledge.similar import as_evidence, evidence_query

    kb = _kb(inv)
    text = description.strip() or evidence_query(inv.evidence) or inv.incident.title
    found = await kb.asimilar_incidents(text, k=max(1, min(k, 5)))
    if not found:
        return "No similar past incident."
    lines = []
    for ev in as_evidence(found, id_prefix="tmp"):
        added = inv.add_evidence(
            ev.source, ev.query, ev.summary, service=ev.service, strength=ev.strength, data=ev.data,
            selector=knowledge_selector((ev.data or {}).get("path"), (ev.data or {}).get("anchor")),
        )
        lines.append(f"[{added.id}] {added.summary}")
    return "\n".join(lines)


def similar_incident_priors(inv: Investigation, service: str, fault: Fault) -> list[Evidence]:
    """The similar past incidents (added by :func:`similar_incidents`) whose cause matches
    (``service`` or unknown, ``fault``): weak priors for a hypothesis, in the order they were found."""
    return [
        ev
        for ev in inv.evidence
        if ev.source is EvidenceSource.KNOWLEDGE
        and ev.data is not None
        and "similarity" in ev.data
        and ev.data.get("fault") == fault.value
        and ev.service in (None, service)
    ]
