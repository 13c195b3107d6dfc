"""Lexical ranking: BM25 over chunk texts, with a tokenizer made for error messages.

BM25 comes from ``bm25s`` (sparse-matrix BM25, MIT, maintained, 0.23 MiB over numpy and scipy):
on 10,000 chunks it builds in under a second and scores a query in ~0.03 ms (median), so the
index is rebuilt in memory from the stored chunk texts whenever the knowledge base is opened or
changed and needs no files of its own. ``rank-bm25``, the other common choice, took ~10 ms per
query on the same chunks (it scores every document per query term; BENCHMARKS.md).

The tokenizer lower-cases, splits on anything that is not a letter or digit, also splits
camelCase identifiers (``ConnectionPoolTimeoutException`` gives the whole word and its parts),
drops English stop words and applies a light plural stemmer.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from day2ai.errors import KnowledgeError

_TOKEN = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|[0-9]+|[a-z]+")
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = """a an and are as at be but by for from has have how i if in into is it its of on or our so
    that the their then there these they this to was we were what when which who will with you your
    do does did not no can could should would all any been being than too very just also after
    before over under up down out about"""
STOP_WORDS = frozenset(_STOP.split())


def stem(word: str) -> str:
    """A light plural stemmer: ``replicas`` -> ``replica``, ``retries`` -> ``retry``."""
    if any(c.isdigit() for c in word):
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: words, camelCase parts, numbers; stop words removed; plurals stemmed."""
    out: list[str] = []
    for word in _WORD.findall(text):
        lower = word.lower()
        parts = [p.lower() for p in _TOKEN.findall(word)]
        candidates = [lower, *parts] if len(parts) > 1 else [lower]
        for tok in candidates:
            if len(tok) > 1 and tok not in STOP_WORDS:
                out.append(stem(tok))
    return out


class LexicalIndex:
    """BM25 scores of a query against a fixed list of texts (rebuild to change the list)."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        try:
            import bm25s
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise KnowledgeError("bm25s is needed for lexical search: pip install 'day2ai[kb]'") from exc
        self._size = len(texts)
        self._bm25 = None
        if texts:
            corpus = [tokenize(t) or ["\u2205"] for t in texts]
            self._bm25 = bm25s.BM25(k1=k1, b=b)
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return self._size

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """One BM25 score per text, in input order (zeros when no query word is known)."""
        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return np.zeros(self._size, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
