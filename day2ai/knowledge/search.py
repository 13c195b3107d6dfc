"""Hybrid ranking: vector similarity (chroma) fused with BM25 (in memory), plus metadata filters.

Pure functions over arrays and lists; the KnowledgeBase does the I/O. Two fusions are available:

- ``rrf``: reciprocal rank fusion, ``sum_i w_i / (k + rank_i)`` over the vector and the lexical
  ranking, reported divided by its maximum so a chunk first in both lists scores 1.0;
- ``blend``: ``alpha * max(cos, 0) + (1 - alpha) * bm25 / max(bm25)``.

The default is ``blend``: on the sample corpus both fusions score alike, but with 10,000
distractor chunks RRF let a weak vector ranking (everything somewhat similar) push junk into the
top 3, while the blend, which keeps the size of the cosine, degraded much less (BENCHMARKS.md).

Results are collapsed to the best chunk of each document, so one long runbook cannot fill the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from day2ai.knowledge.lexical import LexicalIndex
from day2ai.knowledge.types import DocKind, Hit
from day2ai.models import Fault

RRF_K = 60
SNIPPET_CHARS = 240

#: Words to search for each fault, used to build queries from (service, fault) pairs.
FAULT_QUERY: dict[Fault, str] = {
    Fault.CPU_SATURATION: "cpu saturation high cpu throttling",
    Fault.MEMORY_LEAK: "memory leak oom killed heap growth",
    Fault.DISK_FULL: "disk full no space left on device volume",
    Fault.NETWORK_DELAY: "network latency delay slow network",
    Fault.PACKET_LOSS: "packet loss connection reset retransmits",
    Fault.SERVICE_CRASH: "crash crashloop pod restarts down",
    Fault.CODE_ERROR: "exception bug code error 500",
    Fault.BAD_DEPLOY: "bad deploy rollback release",
    Fault.CONFIG_ERROR: "configuration change config error feature flag",
    Fault.DEPENDENCY_FAILURE: "dependency failure downstream upstream provider outage",
    Fault.CONNECTION_POOL_EXHAUSTION: "connection pool exhausted max connections",
    Fault.CERTIFICATE_EXPIRY: "tls certificate expired x509",
    Fault.TRAFFIC_SURGE: "traffic surge load spike rate limit scale out",
    Fault.OTHER: "incident",
}


class Mode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    LEXICAL = "lexical"


class Fusion(StrEnum):
    RRF = "rrf"
    BLEND = "blend"


_Filter = tuple[str | None, str | None, str | None]


def _split(value: Any) -> list[str]:
    return [v for v in str(value or "").split(",") if v]


@dataclass
class Catalogue:
    """Everything stored in the index, held in memory: ids, texts, metadata and the BM25 index."""

    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    lexical: LexicalIndex
    position: dict[str, int]
    _masks: dict[_Filter, npt.NDArray[np.bool_]] = field(default_factory=dict)

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict[str, Any]]) -> Catalogue:
        return cls(ids, texts, metas, LexicalIndex(texts), {cid: i for i, cid in enumerate(ids)})

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, service: str | None, fault: str | None, kind: str | None) -> npt.NDArray[np.bool_]:
        """True for chunks that pass every given filter (cached per filter combination)."""
        key = (service.lower() if service else None, fault, kind)
        if key not in self._masks:
            self._masks[key] = self._compute_mask(*key)
        return self._masks[key]

    def _compute_mask(self, service: str | None, fault: str | None, kind: str | None) -> npt.NDArray[np.bool_]:
        keep = np.ones(len(self.ids), dtype=bool)
        for i, meta in enumerate(self.metas):
            keep[i] = (
                (not service or bool(meta.get(f"svc:{service}")))
                and (not fault or bool(meta.get(f"fault:{fault}")))
                and (not kind or meta.get("kind") == kind)
            )
        return keep

    def hit(self, index: int, score: float) -> Hit:
        meta = self.metas[index]
        text = self.texts[index]
        body = text.split("\n", 1)[1] if "\n" in text else text
        snippet = " ".join(body.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
        return Hit(
            path=str(meta.get("path", "")),
            anchor=str(meta.get("anchor")) or None,
            title=str(meta.get("title", "")),
            kind=DocKind(meta.get("kind", "doc")),
            score=float(min(1.0, max(0.0, score))),
            services=_split(meta.get("services")),
            faults=[Fault(f) for f in _split(meta.get("faults"))],
            snippet=snippet,
        )


def lexical_ranking(scores: npt.NDArray[np.float32], keep: npt.NDArray[np.bool_], n: int) -> list[tuple[int, float]]:
    """(chunk index, bm25) of the ``n`` best chunks with a positive score that pass the mask."""
    masked = np.where(keep, scores, 0.0)
    positive = int(np.count_nonzero(masked > 0))
    if positive == 0:
        return []
    n = min(n, positive)
    top = np.argpartition(-masked, n - 1)[:n]
    top = top[np.argsort(-masked[top], kind="stable")]
    return [(int(i), float(masked[i])) for i in top]


def fuse(
    vector: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    fusion: Fusion = Fusion.RRF,
    weights: tuple[float, float] = (1.0, 1.0),
    alpha: float = 0.5,
) -> list[tuple[int, float]]:
    """Combine two rankings of chunk indexes (best first) into one, scores in [0, 1], best first."""
    scores: dict[int, float] = {}
    if fusion is Fusion.RRF:
        for ranking, w in ((vector, weights[0]), (lexical, weights[1])):
            for rank, (idx, _) in enumerate(ranking):
                scores[idx] = scores.get(idx, 0.0) + w / (RRF_K + rank + 1)
        top = sum(w for w, r in zip(weights, (vector, lexical), strict=True) if r) / (RRF_K + 1)
    else:
        best_lex = max((s for _, s in lexical), default=0.0) or 1.0
        for idx, cos in vector:
            scores[idx] = scores.get(idx, 0.0) + alpha * max(cos, 0.0)
        for idx, bm in lexical:
            scores[idx] = scores.get(idx, 0.0) + (1.0 - alpha) * bm / best_lex
        top = 1.0
    top = top or 1.0
    return sorted(((i, s / top) for i, s in scores.items()), key=lambda t: (-t[1], t[0]))


def single_ranking(ranking: list[tuple[int, float]], lexical: bool) -> list[tuple[int, float]]:
    """A one-sided ranking with scores mapped to [0, 1] (cosine clipped; BM25 over its best)."""
    if not lexical:
        return [(i, max(0.0, s)) for i, s in ranking]
    best = max((s for _, s in ranking), default=0.0) or 1.0
    return [(i, s / best) for i, s in ranking]


def collapse(catalogue: Catalogue, ranked: list[tuple[int, float]], k: int) -> list[Hit]:
    """The best chunk of each document, best first, at most ``k`` documents."""
    seen: set[str] = set()
    hits: list[Hit] = []
    for idx, score in ranked:
        path = str(catalogue.metas[idx].get("path", ""))
        if path in seen:
            continue
        seen.add(path)
        hits.append(catalogue.hit(idx, score))
        if len(hits) >= k:
            break
    return hits


def fault_query(service: str, fault: Fault | str) -> str:
    """A search query for a (service, fault) pair, e.g. for a hypothesis' runbook."""
    try:
        words = FAULT_QUERY[Fault(fault)]
    except ValueError:
        words = str(fault).replace("_", " ")
    return f"{service} {words}"
