"""The offline investigator: statistical RCA with no LLM, through the same tools the LLM agent uses.

It calls the investigation tools in a fixed order (each recorded as a timeline step), fuses their
findings into ranked hypotheses with cited evidence and remediation suggestions, and can hand the
LLM agent a token-budgeted dossier (:meth:`OfflineInvestigator.triage`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from day2ai.agent.base import EventListener
from day2ai.analysis.dossier import DEFAULT_MAX_TOKENS, build_dossier
from day2ai.analysis.fusion import Candidate
from day2ai.analysis.remediation import suggest
from day2ai.errors import Day2AIError
from day2ai.models import Fault, Hypothesis, Incident, Remediation, Report
from day2ai.sources.base import Sources
from day2ai.timeutil import to_datetime
from day2ai.tools import evidence
from day2ai.tools.base import Investigation
from day2ai.tools.changes import recent_changes
from day2ai.tools.knowledge import similar_incident_priors, similar_incidents
from day2ai.tools.logs import log_patterns
from day2ai.tools.metrics import metric_anomalies
from day2ai.tools.rca import candidates, rank_root_causes
from day2ai.tools.topology import dependencies
from day2ai.tools.traces import trace_summary


def baseline_notes(inv: Investigation) -> list[str]:
    """One note per source naming the fault-free period it was compared with."""
    out: list[str] = []
    anomalies = inv.cache.get("metric_anomalies") or []
    if anomalies:
        used = Counter(a.baseline for a in anomalies)
        parts = ", ".join(f"{label} ({n} series)" for label, n in used.most_common())
        out.append(f"Baseline of metrics: {parts}")
    for source, key in (("logs", "log_analysis"), ("traces", "trace_analysis")):
        analysis = inv.cache.get(key)
        if analysis is not None:
            out.append(f"Baseline of {source}: {analysis.baseline}")
    return out


class OfflineInvestigator:
    """Investigator with no LLM. ``max_hypotheses`` bounds the ranked list in the report."""

    name = "offline"

    def __init__(self, max_hypotheses: int = 5, dossier_tokens: int = DEFAULT_MAX_TOKENS):
        self.max_hypotheses = max_hypotheses
        self.dossier_tokens = dossier_tokens

    async def investigate(
        self,
        incident: Incident,
        sources: Sources,
        *,
        knowledge: Any = None,
        listeners: list[EventListener] | None = None,
    ) -> Report:
        report, _ = await self.triage(incident, sources, knowledge=knowledge, listeners=listeners, with_dossier=False)
        return report

    async def triage(
        self,
        incident: Incident,
        sources: Sources,
        *,
        knowledge: Any = None,
        listeners: list[EventListener] | None = None,
        with_dossier: bool = True,
    ) -> tuple[Report, str]:
        """Investigate and also return the evidence dossier for an LLM agent ('' if not asked)."""
        inv = Investigation(incident=incident, sources=sources, knowledge=knowledge, listeners=list(listeners or []))
        started = time.perf_counter()
        hypotheses = await self.run(inv)
        inv.usage.seconds = time.perf_counter() - started
        report = self.report(inv, hypotheses)
        dossier = build_dossier(report, self.dossier_tokens) if with_dossier else ""
        return report, dossier

    async def run(self, inv: Investigation) -> list[Hypothesis]:
        """Run the tools on an existing investigation and return ranked hypotheses."""
        for kind in inv.sources.missing():
            if kind == "topology":
                continue  # named by the topology loader, with what replaces it
            inv.add_gap(kind, f"no {kind} source: {kind} evidence could not be checked")
        await metric_anomalies(inv, limit=12)
        await log_patterns(inv, limit=12)
        await trace_summary(inv, limit=8)
        await recent_changes(inv, limit=5)
        await dependencies(inv)
        await rank_root_causes(inv, limit=self.max_hypotheses)
        await self._similar_incidents(inv)
        cands = await candidates(inv)
        started = time.perf_counter()
        hyps = [await self._hypothesis(inv, c) for c in cands[: self.max_hypotheses]]
        inv.add_step(
            "analysis",
            "fusion",
            summary=f"{len(hyps)} hypotheses",
            seconds=time.perf_counter() - started,
            evidence_ids=[i for h in hyps for i in h.supporting],
        )
        return hyps

    async def _similar_incidents(self, inv: Investigation) -> None:
        """Past postmortems resembling the evidence, as weak priors (only with a knowledge base)."""
        if inv.knowledge is None or not hasattr(inv.knowledge, "asimilar_incidents"):
            return
        try:
            await similar_incidents(inv, k=3)
        except Day2AIError as exc:
            inv.add_gap("knowledge", f"similar-incident lookup failed: {exc}")

    async def _hypothesis(self, inv: Investigation, c: Candidate) -> Hypothesis:
        supporting = [ev.id for key in c.supporting[:6] if (ev := await evidence.evidence_for(inv, key)) is not None]
        priors = similar_incident_priors(inv, c.service, c.fault)
        supporting += [ev.id for ev in priors]
        contradicting = [ev.id for key in c.contradicting if (ev := await evidence.evidence_for(inv, key)) is not None]
        onset = f" from {to_datetime(c.onset).strftime('%H:%M:%S')}" if c.onset else ""
        why = f" ({'; '.join(c.reasons)})" if c.reasons else ""
        summary = f"{c.fault.value.replace('_', ' ')} at {c.service}{onset}{why}"
        if priors:
            best = max((ev.data or {} for ev in priors), key=lambda data: float(data["similarity"]))
            summary += (
                f"; a similar past incident ({best['ref']}, similarity {float(best['similarity']):.2f})"
                " had this cause (a prior)"
            )
        return Hypothesis(
            service=c.service,
            fault=c.fault,
            confidence=c.confidence,
            summary=summary,
            supporting=supporting,
            contradicting=contradicting,
            remediations=await self._remediations(inv, c.service, c.fault),
        )

    async def _remediations(self, inv: Investigation, service: str, fault: Fault) -> list[Remediation]:
        out = suggest(service, fault)
        kb = inv.knowledge
        if kb is None or not hasattr(kb, "runbook_for"):
            return out
        try:
            hit = await asyncio.to_thread(kb.runbook_for, service, fault)
        except Day2AIError as exc:
            inv.add_gap("knowledge", f"runbook lookup failed: {exc}")
            return out
        ref = getattr(hit, "ref", None) if hit is not None else None
        if ref:
            out = [r.model_copy(update={"runbook": str(ref)}) for r in out]
        return out

    def report(self, inv: Investigation, hypotheses: list[Hypothesis]) -> Report:
        p = inv.cache.get("periods")
        notes = []
        if p is not None:
            notes.append(
                f"Onset estimate {to_datetime(p.onset).isoformat()}; baseline "
                f"{to_datetime(p.baseline_start).isoformat()} .. {to_datetime(p.baseline_end).isoformat()}"
                + (" (given)" if p.explicit_baseline else " (before the onset)")
            )
            notes.extend(baseline_notes(inv))
        return Report(
            incident=inv.incident,
            investigator=self.name,
            hypotheses=hypotheses,
            evidence=list(inv.evidence),
            timeline=list(inv.timeline),
            usage=inv.usage,
            gaps=list(inv.gaps),
            notes=notes,
        )
