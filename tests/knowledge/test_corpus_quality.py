"""The sample corpus and labelled queries are well-formed, and retrieval meets the issue's target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from day2ai.errors import InputError
from day2ai.knowledge import KnowledgeBase
from day2ai.knowledge.embeddings import HashingEmbedder
from day2ai.knowledge.markdown import parse_markdown
from day2ai.knowledge.quality import LabelledQuery, evaluate, load_queries
from day2ai.knowledge.types import Hit
from day2ai.models import Fault
from tests.knowledge.conftest import CORPUS


def _parsed() -> dict[str, object]:
    out = {}
    for path in sorted(CORPUS.rglob("*.md")):
        rel = path.relative_to(CORPUS).as_posix()
        out[rel] = parse_markdown(path.read_text(encoding="utf-8"), rel)
    return out


def test_corpus_size_and_fault_coverage() -> None:
    parsed = _parsed()
    runbooks = [p for p in parsed if p.startswith("runbooks/")]
    postmortems = [p for p in parsed if p.startswith("postmortems/")]
    assert len(runbooks) >= 25 and len(postmortems) >= 25
    covered = {f for pf in parsed.values() for f in pf.document.faults}  # type: ignore[attr-defined]
    assert covered == set(Fault)
    assert all(not pf.warnings for pf in parsed.values())  # type: ignore[attr-defined]


def test_labelled_queries_point_at_real_documents_and_sections() -> None:
    parsed = _parsed()
    queries = load_queries(CORPUS / "queries.jsonl")
    assert len(queries) >= 80
    assert len({q.id for q in queries}) == len(queries)
    for q in queries:
        for rel in q.relevant:
            assert rel in parsed, (q.id, rel)
        for rel, anchor in q.anchors.items():
            assert rel in q.relevant, (q.id, rel)
            anchors = {c.anchor for c in parsed[rel].chunks}  # type: ignore[attr-defined]
            assert anchor in anchors, (q.id, rel, anchor)


def test_queries_are_not_copied_from_documents() -> None:
    texts = " ".join(p.read_text(encoding="utf-8").lower() for p in CORPUS.rglob("*.md"))
    queries = load_queries(CORPUS / "queries.jsonl")
    copied = [q for q in queries if q.query.lower() in texts]
    # raw error messages legitimately appear verbatim in runbooks (and two-word filtered queries
    # like "disk full"); incident descriptions and paraphrases must not
    assert [q.id for q in copied if q.type != "error" and not q.filters] == []
    assert len(copied) <= 10


def test_load_queries_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps({"id": "a", "query": "x", "relevant": ["r.md"]}) + '\n{"id": "b"}\n')
    with pytest.raises(InputError, match=r"q.jsonl:2: not a labelled query"):
        load_queries(bad)


def test_metrics_are_computed_from_ranks() -> None:
    queries = [
        LabelledQuery(id="a", query="x", relevant=["d1", "d2"], anchors={"d1": "s"}),
        LabelledQuery(id="b", query="y", relevant=["d9"]),
    ]

    def fake(q: LabelledQuery) -> list[Hit]:
        paths = ["d0", "d1", "d2"] if q.id == "a" else ["d0", "d1", "d2", "d9"]
        return [Hit(path=p, anchor="s", title=p, kind="runbook", score=0.5) for p in paths]

    report = evaluate(fake, queries, "fake", k=3)
    assert report.hit_at_k == 0.5
    assert report.mrr == round((1 / 2 + 1 / 4) / 2, 4)
    assert report.recall_at_k == round((2 / 2 + 0) / 2, 4)
    assert report.anchor_accuracy == 1.0
    assert report.misses == ["b"]


def _quality(kb: KnowledgeBase, mode: str):  # type: ignore[no-untyped-def]
    queries = load_queries(CORPUS / "queries.jsonl")
    return evaluate(lambda q: kb.search(q.query, k=10, mode=mode, **q.filters), queries, mode)


@pytest.mark.slow
def test_hybrid_meets_the_recall_target_with_minilm(minilm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(tmp_path / "idx", embedder=minilm)
    kb.ingest(CORPUS)
    hybrid = _quality(kb, "hybrid")
    assert hybrid.hit_at_k >= 0.90, hybrid.misses
    assert hybrid.mrr >= 0.85
    lexical = _quality(kb, "lexical")
    assert hybrid.recall_at_k >= lexical.recall_at_k


def test_hashing_fallback_is_still_useful(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "idx", embedder=HashingEmbedder())
    kb.ingest(CORPUS)
    report = _quality(kb, "hybrid")
    assert report.hit_at_k >= 0.85, report.misses


def test_every_fault_but_other_has_a_runbook_for_any_service(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "idx", embedder=HashingEmbedder())
    kb.ingest(CORPUS)
    for fault in Fault:
        hit = kb.runbook_for("fraud-check", fault)  # a simulator service without its own runbook
        if fault is Fault.OTHER:
            assert hit is None
        else:
            assert hit is not None and hit.kind.value == "runbook", fault
            assert not hit.services or "all" in hit.services
    own = kb.runbook_for("payments", Fault.CONNECTION_POOL_EXHAUSTION)
    assert own is not None and own.ref == "runbooks/payments.md#connection-pool-exhausted"
