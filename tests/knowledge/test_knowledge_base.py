from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from day2ai.errors import InputError, KnowledgeError
from day2ai.knowledge import DocKind, KnowledgeBase, as_evidence
from day2ai.knowledge.embeddings import HashingEmbedder
from day2ai.models import Evidence, EvidenceSource, Fault


def test_ingest_is_incremental(kb: KnowledgeBase, corpus: Path) -> None:
    first = kb.ingest(corpus)
    assert (first.added, first.updated, first.removed, first.unchanged) == (5, 0, 0, 0)
    assert first.chunks_embedded == kb.stats().chunks

    again = kb.ingest(corpus)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 5)
    assert again.chunks_embedded == 0

    pm = corpus / "postmortems" / "2025-01-01-pool.md"
    pm.write_text(pm.read_text().replace("Rolled back the release", "Rolled back v2.14"), encoding="utf-8")
    (corpus / "runbooks" / "tls.md").unlink()
    (corpus / "runbooks" / "new.md").write_text("# Cache\n\n## Evictions\n\nRedis evicts keys.\n")
    third = kb.ingest(corpus)
    assert (third.added, third.updated, third.removed, third.unchanged) == (1, 1, 1, 3)
    # only the edited section of the updated postmortem and the new file were embedded
    assert third.chunks_embedded == 2
    assert third.chunks_reused == 2
    paths = {h.path for h in kb.search("certificate expired x509", k=10)}
    assert "runbooks/tls.md" not in paths
    assert kb.stats().documents == 5
    hits = kb.search("rolled back v2.14", k=1)
    assert hits[0].path == "postmortems/2025-01-01-pool.md"


def test_persisted_index_is_reopened(tmp_path: Path, corpus: Path) -> None:
    KnowledgeBase(tmp_path / "idx", embedder=HashingEmbedder(256)).ingest(corpus)
    reopened = KnowledgeBase(tmp_path / "idx")  # embedder taken from the index
    assert reopened.embedder.name == "hashing-v1-256"
    assert reopened.exists()
    assert reopened.search("WAL archiving credentials rotation", k=1)[0].path == "postmortems/2025-02-01-disk.md"
    assert reopened.stats().documents == 5


def test_bad_files_are_skipped_with_warnings_and_kept_in_the_index(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    rb = corpus / "runbooks" / "payments.md"
    rb.write_text("---\nservice: [unclosed\n---\n# x\n", encoding="utf-8")
    (corpus / "runbooks" / "weird.md").write_text("---\nfaults: [gremlins]\n---\n# W\n\ntext\n")
    (corpus / "runbooks" / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    stats = kb.ingest(corpus)
    text = "\n".join(stats.warnings)
    assert "runbooks/payments.md:2: front matter is not valid YAML (skipped)" in text
    assert "runbooks/weird.md: front matter field 'faults': unknown fault word 'gremlins'" in text
    assert "runbooks/binary.md: not UTF-8" in text
    assert stats.removed == 0 and stats.added == 1
    assert any(h.path == "runbooks/payments.md" for h in kb.search("connection pool", k=5))


def test_search_filters(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    assert {h.path for h in kb.search("timeouts", k=10, service="payments")} == {
        "runbooks/payments.md",
        "postmortems/2025-01-01-pool.md",
    }
    assert {h.kind for h in kb.search("disk", k=10, kind="postmortem")} == {DocKind.POSTMORTEM}
    assert {h.path for h in kb.search("disk volume", k=10, fault=Fault.DISK_FULL)} == {
        "runbooks/orders-db.md",
        "postmortems/2025-02-01-disk.md",
    }
    assert kb.search("disk", k=5, service="nobody") == []
    assert kb.search("   ", k=5) == []
    with pytest.raises(InputError, match="unknown fault"):
        kb.search("x", fault="gremlins")
    with pytest.raises(InputError, match="k must be"):
        kb.search("x", k=0)


@pytest.mark.parametrize("mode", ["vector", "lexical", "hybrid"])
def test_every_mode_finds_an_exact_error(kb: KnowledgeBase, corpus: Path, mode: str) -> None:
    kb.ingest(corpus)
    hits = kb.search("x509 certificate has expired", k=3, mode=mode)
    assert hits[0].path == "runbooks/tls.md" and hits[0].anchor == "renew"
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_runbook_for_prefers_service_and_fault_then_generic(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    hit = kb.runbook_for("payments", Fault.CONNECTION_POOL_EXHAUSTION)
    assert hit is not None and hit.ref == "runbooks/payments.md#connection-pool-exhausted"
    generic = kb.runbook_for("checkout", "certificate_expiry")
    assert generic is not None and generic.path == "runbooks/tls.md"
    assert kb.runbook_for("checkout", "disk_full") is None  # orders-db's runbook is not checkout's
    service_only = kb.runbook_for("orders-db", "cpu_saturation")
    assert service_only is not None and service_only.path == "runbooks/orders-db.md"


def test_similar_incidents_surface_cause_and_fix(kb: KnowledgeBase, corpus: Path) -> None:
    kb.ingest(corpus)
    evidence = [
        Evidence(
            id="e1",
            source=EvidenceSource.LOGS,
            query="q",
            service="payments",
            strength=0.9,
            summary="payments: timeout waiting for a connection from the HTTP client pool",
        ),
        Evidence(
            id="e2",
            source=EvidenceSource.CHANGES,
            query="q",
            service="payments",
            strength=0.6,
            summary="payments release lowered pool",
        ),
    ]
    found = kb.similar_incidents(evidence, k=2)
    assert found[0].path == "postmortems/2025-01-01-pool.md"
    assert found[0].service == "payments" and found[0].fault is Fault.CONNECTION_POOL_EXHAUSTION
    assert "4 connections" in found[0].root_cause and "Rolled back" in found[0].fix
    assert -1.0 <= found[0].similarity <= 1.0 and found[0].similarity > found[-1].similarity - 1e-9
    prior = as_evidence(found)
    assert prior[0].source is EvidenceSource.KNOWLEDGE
    assert prior[0].strength <= 0.3 and "not proof" in prior[0].summary
    assert "similarity" in prior[0].summary


async def test_async_api(kb: KnowledgeBase, corpus: Path) -> None:
    stats = await kb.aingest(corpus)
    assert stats.added == 5
    assert (await kb.asearch("WAL archiving failed", k=1))[0].path.startswith("postmortems/2025-02-01")
    assert (await kb.arunbook_for("orders-db", "disk_full")) is not None
    assert (await kb.asimilar_incidents("disk filled up, WAL", k=1))[0].fault is Fault.DISK_FULL
    assert (await kb.astats()).by_kind == {"runbook": 3, "postmortem": 2}


def test_search_on_an_empty_or_missing_index(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "none", embedder=HashingEmbedder(64))
    assert not kb.exists()
    assert kb.search("anything") == []
    assert kb.similar_incidents("anything") == []
    assert kb.runbook_for("payments", "disk_full") is None
    assert kb.stats().documents == 0


def test_embedder_mismatch_is_a_clear_error(tmp_path: Path, corpus: Path) -> None:
    KnowledgeBase(tmp_path / "idx", embedder=HashingEmbedder(256)).ingest(corpus)
    other = KnowledgeBase(tmp_path / "idx", embedder=HashingEmbedder(128))
    with pytest.raises(KnowledgeError, match="built with the hashing-v1-256 embedding"):
        other.search("disk")


def test_two_sources_in_one_index_do_not_remove_each_other(kb: KnowledgeBase, corpus: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "runbooks").mkdir(parents=True)
    (other / "runbooks" / "search.md").write_text("# Search\n\n## Disk\n\nIndex volume full.\n")
    kb.ingest(corpus)
    assert kb.ingest(other).added == 1
    assert kb.stats().documents == 6
    shutil.rmtree(other / "runbooks")
    (other / "keep.md").write_text("# keep\n")
    stats = kb.ingest(other)
    assert stats.removed == 1 and kb.stats().documents == 6


def test_not_a_directory_and_empty_directory(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        kb.ingest(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    stats = kb.ingest(tmp_path / "empty")
    assert stats.added == 0 and "no Markdown files" in stats.warnings[0]


def test_server_address_parsing() -> None:
    from day2ai.knowledge.base import parse_server

    assert parse_server("127.0.0.1:8123").port == 8123
    assert str(parse_server("https://chroma.example:443")) == "https://chroma.example:443"
    assert parse_server("chroma").port == 8000
    with pytest.raises(InputError):
        parse_server("host:notaport")
