from __future__ import annotations

from pathlib import Path

from day2ai.knowledge import KnowledgeBase
from day2ai.knowledge.links import link_runbooks, with_runbook
from day2ai.models import EvidenceSource, Fault, Hypothesis, Incident, Remediation
from day2ai.sources.base import Sources
from day2ai.tools.base import TOOLS, Investigation
from day2ai.tools.knowledge import (
    search_knowledge,
    search_knowledge_text,
    similar_incidents,
    similar_incidents_text,
)

INCIDENT = Incident.model_validate(
    {
        "id": "kb-1",
        "title": "checkout timeouts",
        "detected_at": "2026-03-14T10:30:00Z",
        "window": {"start": "2026-03-14T10:00:00Z", "end": "2026-03-14T10:45:00Z"},
    }
)


async def test_plain_text_functions(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    text = await search_knowledge_text(kb, "x509 certificate has expired", k=2)
    assert text.startswith("1. [runbook] runbooks/tls.md#renew")
    assert len(text.splitlines()) == 4
    capped = await search_knowledge_text(kb, "pool", k=10, max_tokens=20)
    assert len(capped) < len(await search_knowledge_text(kb, "pool", k=10))
    assert await search_knowledge_text(kb, "x", service="nobody") == "No runbook or postmortem matches."
    prior = await similar_incidents_text(kb, "payments pool of 4 connections, checkout timeouts")
    assert "postmortems/2025-01-01-pool.md" in prior and "not proof" in prior


async def test_tools_register_weak_knowledge_evidence(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    assert "search_knowledge" in TOOLS and "similar_incidents" in TOOLS
    inv = Investigation(INCIDENT, Sources(), knowledge=kb)
    out = await search_knowledge(inv, "WAL archiving disk full", service="orders-db")
    assert "orders-db" in out
    assert inv.evidence[-1].source is EvidenceSource.KNOWLEDGE and inv.evidence[-1].strength <= 0.3
    inv.add_evidence(
        EvidenceSource.LOGS,
        "q",
        "payments: timeout waiting for HTTP pool connection",
        service="payments",
        strength=0.9,
    )
    out = await similar_incidents(inv)
    assert "2025-01-01-pool.md" in out and out.startswith("[e")
    assert inv.usage.tool_calls == 2


async def test_tool_without_knowledge_base_reports_a_gap() -> None:
    inv = Investigation(INCIDENT, Sources())
    out = await search_knowledge(inv, "anything")
    assert out.startswith("ERROR:") and "knowledge base" in out
    assert inv.gaps and inv.gaps[0].source == "search_knowledge"


async def test_link_runbooks_fills_remediations(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    hyps = [
        Hypothesis(service="payments", fault=Fault.CONNECTION_POOL_EXHAUSTION, confidence=0.8, summary="pool"),
        Hypothesis(
            service="checkout",
            fault=Fault.DISK_FULL,
            confidence=0.2,
            summary="disk",
            remediations=[Remediation(action="free space")],
        ),
        Hypothesis(
            service="payments",
            fault=Fault.CONNECTION_POOL_EXHAUSTION,
            confidence=0.1,
            summary="again",
            remediations=[
                Remediation(action="roll back", runbook="runbooks/other.md#x"),
                Remediation(action="raise pool"),
            ],
        ),
    ]
    linked = await link_runbooks(kb, hyps)
    assert linked[0].remediations[0].runbook == "runbooks/payments.md#connection-pool-exhausted"
    assert linked[1].remediations[0].runbook is None  # no runbook for checkout + disk_full
    assert [r.runbook for r in linked[2].remediations] == [
        "runbooks/other.md#x",
        "runbooks/payments.md#connection-pool-exhausted",
    ]
    assert hyps[0].remediations == []  # inputs are not modified
    assert with_runbook(hyps[0], None) is hyps[0]


async def test_offline_investigator_cites_similar_incidents_as_priors(kb: KnowledgeBase, tmp_path: Path) -> None:
    from day2ai.agent.offline import OfflineInvestigator
    from tests.agent.offline_synth import make_world, sources
    from tests.knowledge.conftest import write_corpus

    files = {
        "postmortems/2025-05-05-payments-cpu.md": """---
service: payments
fault: cpu_saturation
---
# payments pinned at its CPU limit
## Root cause
A regular expression in request validation backtracked; payments CPU saturation made checkout and frontend slow.
## Fix
Scaled payments out and fixed the expression.
""",
        "postmortems/2025-02-01-disk.md": """---
service: orders-db
fault: disk_full
---
# orders-db out of disk
## Root cause
Archiving of WAL failed; the disk filled up.
""",
    }
    kb.ingest(write_corpus(tmp_path / "pm", files))
    world = make_world("cpu_saturation", "payments", seed=2)
    report = await OfflineInvestigator(max_hypotheses=3).investigate(world.incident, sources(world), knowledge=kb)
    top = report.hypotheses[0]
    assert (top.service, top.fault) == ("payments", Fault.CPU_SATURATION)
    by_id = {ev.id: ev for ev in report.evidence}
    priors = [by_id[i] for i in top.supporting if by_id[i].source is EvidenceSource.KNOWLEDGE]
    assert [p.data["path"] for p in priors] == ["postmortems/2025-05-05-payments-cpu.md"]
    assert all(p.strength <= 0.3 for p in priors)  # a prior, never proof
    assert "similar past incident" in top.summary and "prior" in top.summary
    assert not any(by_id[i].source is EvidenceSource.KNOWLEDGE for h in report.hypotheses[1:] for i in h.supporting)
    assert any(s.name == "similar_incidents" for s in report.timeline)


def test_runbook_for_never_cites_a_section_about_another_fault(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    exact = kb.runbook_for("orders-db", Fault.DISK_FULL)
    assert exact is not None and exact.ref == "runbooks/orders-db.md#disk-filling-up"
    other = kb.runbook_for("orders-db", Fault.CPU_SATURATION)
    assert other is not None and other.ref == "runbooks/orders-db.md"  # the runbook, not its disk section
    generic = kb.runbook_for("orders-db", Fault.CERTIFICATE_EXPIRY)
    assert generic is not None and generic.path == "runbooks/tls.md"
