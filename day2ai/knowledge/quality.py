"""Retrieval quality of a knowledge base against a labelled query set (recall@k, MRR).

The query set is JSON Lines, one object per line::

    {"id": "q001", "query": "FATAL: sorry, too many clients already",
     "relevant": ["runbooks/orders-db.md", "postmortems/2026-02-03-orders-db-too-many-connections.md"],
     "anchors": {"runbooks/orders-db.md": "too-many-connections"},
     "filters": {"service": "orders-db"}}

Documents are the unit of relevance. ``hit@k`` is the share of queries with at least one relevant
document in the first k results (what the issue's "recall@3" target measures); ``recall@k`` is the
mean of |relevant ∩ top k| / min(k, |relevant|); MRR uses the first relevant document. Anchor
accuracy counts, over labelled anchors whose document was retrieved in the top k, how often the
returned section is the labelled one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from day2ai.errors import InputError
from day2ai.knowledge.types import Hit


class LabelledQuery(BaseModel):
    id: str
    query: str
    relevant: list[str] = Field(min_length=1)
    anchors: dict[str, str] = Field(default_factory=dict)
    filters: dict[str, str] = Field(default_factory=dict)
    type: str = "description"


class QueryResult(BaseModel):
    id: str
    rank: int | None = Field(description="1-based rank of the first relevant document, or None")
    returned: list[str]


class QualityReport(BaseModel):
    mode: str
    queries: int
    k: int
    hit_at_k: float
    recall_at_k: float
    mrr: float
    anchor_accuracy: float | None
    misses: list[str] = Field(default_factory=list, description="ids of queries with no relevant doc in top k")
    per_query: list[QueryResult] = Field(default_factory=list)


def load_queries(path: str | Path) -> list[LabelledQuery]:
    """Read a labelled query set; errors name the file and line."""
    out: list[LabelledQuery] = []
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(LabelledQuery.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise InputError(f"{file}:{n}: not a labelled query: {first}") from exc
    return out


def score_query(q: LabelledQuery, hits: list[Hit], k: int) -> tuple[int | None, float, int, int]:
    """(rank of the first relevant hit, recall@k, anchors checked, anchors right) for one query."""
    rank = next((i + 1 for i, h in enumerate(hits) if h.path in q.relevant), None)
    paths = [h.path for h in hits[:k]]
    recall = len(set(paths) & set(q.relevant)) / min(k, len(q.relevant))
    checked = right = 0
    for hit in hits[:k]:
        want = q.anchors.get(hit.path)
        if want is not None:
            checked += 1
            right += int(hit.anchor == want)
    return rank, recall, checked, right


def evaluate(
    search: Callable[[LabelledQuery], list[Hit]], queries: list[LabelledQuery], mode: str, k: int = 3
) -> QualityReport:
    """Run ``search`` for every query and compute hit@k, recall@k, MRR and anchor accuracy."""
    results: list[QueryResult] = []
    recall_sum = rr_sum = 0.0
    checked = right = 0
    for q in queries:
        hits = search(q)
        rank, recall, c, r = score_query(q, hits, k)
        recall_sum += recall
        rr_sum += 1.0 / rank if rank else 0.0
        checked += c
        right += r
        results.append(QueryResult(id=q.id, rank=rank, returned=[h.ref for h in hits[:k]]))
    n = max(1, len(queries))
    hits_k = sum(1 for r in results if r.rank is not None and r.rank <= k)
    return QualityReport(
        mode=mode,
        queries=len(queries),
        k=k,
        hit_at_k=round(hits_k / n, 4),
        recall_at_k=round(recall_sum / n, 4),
        mrr=round(rr_sum / n, 4),
        anchor_accuracy=round(right / checked, 4) if checked else None,
        misses=[r.id for r in results if r.rank is None or r.rank > k],
        per_query=results,
    )
