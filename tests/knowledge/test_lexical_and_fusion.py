from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from day2ai.knowledge.lexical import LexicalIndex, stem, tokenize
from day2ai.knowledge.search import Catalogue, Fusion, collapse, fault_query, fuse, lexical_ranking
from day2ai.models import Fault


def test_tokenize_splits_identifiers_and_drops_stop_words() -> None:
    toks = tokenize("The ConnectionPoolTimeoutException was thrown after 30000ms by HikariPool-1")
    assert "connectionpooltimeoutexception" in toks
    assert {"connection", "pool", "timeout", "exception", "hikari", "30000ms"} <= set(toks)
    assert "the" not in toks and "was" not in toks


def test_stem_is_light() -> None:
    assert stem("replicas") == "replica"
    assert stem("retries") == "retry"
    assert stem("process") == "process"
    assert stem("status") == "status"
    assert stem("500s") == "500s"


def test_bm25_ranks_the_matching_text_first() -> None:
    index = LexicalIndex(["disk full on the database", "connection pool exhausted timeouts", "tls expired"])
    scores = index.scores("pool exhausted")
    assert int(np.argmax(scores)) == 1
    assert scores[0] == 0 and scores[2] == 0
    assert not index.scores("unknownword").any()
    assert len(LexicalIndex([]).scores("anything")) == 0


def test_lexical_ranking_respects_the_mask() -> None:
    scores = np.array([3.0, 2.0, 0.0, 5.0], dtype=np.float32)
    keep = np.array([True, True, True, False])
    assert lexical_ranking(scores, keep, 10) == [(0, 3.0), (1, 2.0)]
    assert lexical_ranking(scores, keep, 1) == [(0, 3.0)]
    assert lexical_ranking(np.zeros(3, dtype=np.float32), np.ones(3, dtype=bool), 5) == []


def test_rrf_prefers_items_ranked_high_in_both_lists() -> None:
    vector = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(2, 9.0), (4, 5.0), (1, 1.0)]
    fused = fuse(vector, lexical, Fusion.RRF)
    assert [i for i, _ in fused][:2] == [2, 1]
    assert fused[0][1] <= 1.0
    assert fuse([(7, 0.5)], [(7, 3.0)], Fusion.RRF)[0] == (7, 1.0)


def test_blend_uses_normalised_scores() -> None:
    fused = dict(fuse([(1, 0.8), (2, -0.2)], [(2, 10.0), (3, 5.0)], Fusion.BLEND, alpha=0.5))
    assert fused[1] == 0.4
    assert fused[2] == 0.5
    assert fused[3] == 0.25


ranking = st.lists(st.tuples(st.integers(0, 30), st.floats(-1, 10)), max_size=15, unique_by=lambda t: t[0])


@given(ranking, ranking, st.sampled_from(list(Fusion)))
def test_fused_scores_are_in_unit_range_and_sorted(vector, lexical, fusion) -> None:  # type: ignore[no-untyped-def]
    vector = [(i, max(-1.0, min(1.0, s))) for i, s in vector]
    lexical = sorted(((i, abs(s)) for i, s in lexical), key=lambda t: -t[1])
    fused = fuse(vector, lexical, fusion)
    scores = [s for _, s in fused]
    assert all(0.0 <= s <= 1.0 + 1e-9 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert {i for i, _ in fused} == {i for i, _ in vector} | {i for i, _ in lexical}


def _catalogue() -> Catalogue:
    metas = [
        {
            "path": "a.md",
            "anchor": "x",
            "title": "A: x",
            "kind": "runbook",
            "services": "payments",
            "faults": "disk_full",
            "svc:payments": True,
            "fault:disk_full": True,
        },
        {
            "path": "a.md",
            "anchor": "y",
            "title": "A: y",
            "kind": "runbook",
            "services": "payments",
            "faults": "",
        },
        {"path": "b.md", "anchor": "", "title": "B", "kind": "postmortem", "services": "", "faults": ""},
    ]
    return Catalogue.build(["1", "2", "3"], ["A: x\ndisk", "A: y\ncpu", "B\nthing"], metas)


def test_collapse_keeps_the_best_section_per_document() -> None:
    cat = _catalogue()
    hits = collapse(cat, [(1, 0.9), (0, 0.8), (2, 0.5)], k=5)
    assert [(h.path, h.anchor) for h in hits] == [("a.md", "y"), ("b.md", None)]
    assert hits[0].snippet == "cpu" and hits[0].ref == "a.md#y" and hits[1].ref == "b.md"
    assert len(collapse(cat, [(1, 0.9), (2, 0.5)], k=1)) == 1


def test_catalogue_masks_filter_by_service_fault_and_kind() -> None:
    cat = _catalogue()
    assert cat.mask("Payments", None, None).tolist() == [True, False, False]
    assert cat.mask(None, "disk_full", "runbook").tolist() == [True, False, False]
    assert cat.mask(None, None, "postmortem").tolist() == [False, False, True]
    assert cat.mask(None, None, None).all()


def test_fault_query_has_words_for_every_fault() -> None:
    for fault in Fault:
        assert fault_query("svc", fault).startswith("svc ")
    assert "certificate" in fault_query("auth", "certificate_expiry")
    assert fault_query("x", "made_up") == "x made up"
