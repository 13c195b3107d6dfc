"""The search snapshot: a fresh process searches an embedded index without importing chromadb,
with the same results as through chroma, and never trusts a snapshot older than the index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from day2ai.knowledge import KnowledgeBase
from day2ai.knowledge.embeddings import HashingEmbedder
from day2ai.knowledge.snapshot import CHROMA_DB, SNAPSHOT, is_fresh, read_snapshot

QUERIES = ["connection pool exhausted", "disk full", "rollback a bad deploy", "certificate expired"]


def _hits(kb: KnowledgeBase, query: str) -> list[tuple[str, str | None, float]]:
    return [(h.path, h.anchor, round(h.score, 4)) for h in kb.search(query, k=5)]


def test_ingest_writes_a_snapshot_that_searches_like_chroma(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    KnowledgeBase(index, embedder=HashingEmbedder(256)).ingest(corpus)
    snap = read_snapshot(index)
    assert snap is not None and snap.embedder == HashingEmbedder(256).name
    assert len(snap.ids) == len(snap.vectors) > 0
    fast = {q: _hits(KnowledgeBase(index), q) for q in QUERIES}
    (index / SNAPSHOT).unlink()
    slow = {q: _hits(KnowledgeBase(index), q) for q in QUERIES}  # through chroma; rewrites the snapshot
    assert fast == slow and any(fast.values())
    assert read_snapshot(index) is not None


def test_filters_apply_to_the_vector_ranking(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    KnowledgeBase(index, embedder=HashingEmbedder(256)).ingest(corpus)
    kb = KnowledgeBase(index)
    for kind in ("runbook", "postmortem"):
        hits = kb.search("payments", k=10, kind=kind, mode="vector")
        assert hits and all(h.kind.value == kind for h in hits)


def test_a_stale_snapshot_is_not_used(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    KnowledgeBase(index, embedder=HashingEmbedder(256)).ingest(corpus)
    assert is_fresh(index)
    later = (index / SNAPSHOT).stat().st_mtime_ns + 10**9
    os.utime(index / CHROMA_DB, ns=(later, later))
    assert read_snapshot(index) is None
    (index / SNAPSHOT).write_bytes(b"not a snapshot")
    os.utime(index / SNAPSHOT, ns=(later + 1, later + 1))
    assert read_snapshot(index) is None  # unreadable: ignored, chroma is used
    assert _hits(KnowledgeBase(index), "disk full")


def test_cold_cli_search_does_not_import_chromadb(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    KnowledgeBase(index, embedder=HashingEmbedder(256)).ingest(corpus)
    code = ("import sys; from day2ai.cli import main; "
            f"rc = main(['kb', 'search', 'disk full', '--index', {str(index)!r}, '--format', 'json']); "
            "print('CHROMA' if 'chromadb' in sys.modules else 'NO-CHROMA', file=sys.stderr); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "NO-CHROMA" in out.stderr
    assert json.loads(out.stdout)[0]["path"]


def test_knowledge_bases_of_one_process_share_the_loaded_model(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    KnowledgeBase(index, embedder=HashingEmbedder(256)).ingest(corpus)
    first, second = KnowledgeBase(index), KnowledgeBase(index)
    assert first.embedder is second.embedder
    assert first.search("disk full", k=3) == second.search("disk full", k=3)
