"""A numpy snapshot of an embedded knowledge index, so a fresh process searches without chromadb.

Importing chromadb costs seconds; a cold ``day2ai kb search`` should not. After every ingest the
:class:`~day2ai.knowledge.KnowledgeBase` writes ``<index>/day2ai-search.npz``: every chunk's id,
text, metadata and vector, and the embedder's name. A search in a new process reads it, ranks
by exact cosine in numpy (the index is small enough: 10,000 chunks x 384 floats is 15 MB) and
never imports chromadb. The snapshot is trusted only while chroma's database file is not newer
than it; otherwise the index is read through chroma and the snapshot rewritten.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from day2ai.knowledge.embeddings import Embedder

SNAPSHOT = "day2ai-search.npz"
VERSION = 1
CHROMA_DB = "chroma.sqlite3"


@dataclass(frozen=True)
class Snapshot:
    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    vectors: npt.NDArray[np.float32]  # one L2-normalised row per chunk
    embedder: str


def snapshot_path(index: Path) -> Path:
    return index / SNAPSHOT


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def is_fresh(index: Path) -> bool:
    """A snapshot exists and chroma's database has not changed since it was written."""
    snap, db = _mtime(snapshot_path(index)), _mtime(index / CHROMA_DB)
    return snap is not None and db is not None and db <= snap


def write_snapshot(index: Path, snapshot: Snapshot) -> None:
    """Write atomically (a reader never sees half a file)."""
    header = {"version": VERSION, "embedder": snapshot.embedder, "ids": snapshot.ids, "texts": snapshot.texts,
              "metas": snapshot.metas}
    tmp = index / f".{SNAPSHOT}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, vectors=np.asarray(snapshot.vectors, dtype=np.float32),
                 header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8))
    os.replace(tmp, snapshot_path(index))


def read_snapshot(index: Path) -> Snapshot | None:
    """The snapshot of ``index`` when it is fresh and readable, else None (then use chroma)."""
    if not is_fresh(index):
        return None
    try:
        with np.load(snapshot_path(index), allow_pickle=False) as data:
            header = json.loads(data["header"].tobytes().decode("utf-8"))
            vectors = np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        return None
    ids, texts, metas = header.get("ids"), header.get("texts"), header.get("metas")
    if not (isinstance(ids, list) and isinstance(texts, list) and isinstance(metas, list)):
        return None
    if not (len(ids) == len(texts) == len(metas) == (len(vectors) if vectors.ndim == 2 else -1)):
        return None
    return Snapshot(ids=ids, texts=texts, metas=metas, vectors=vectors, embedder=str(header.get("embedder", "")))


def vector_ranking(
    vectors: npt.NDArray[np.float32], query: npt.NDArray[np.float32], keep: npt.NDArray[np.bool_], n: int
) -> list[tuple[int, float]]:
    """(chunk index, cosine) of the ``n`` nearest chunks that pass ``keep``, best first (exact search)."""
    if len(vectors) == 0 or n < 1:
        return []
    sims = vectors @ np.asarray(query, dtype=np.float32)
    sims = np.where(keep, sims, -np.inf)
    n = min(n, int(np.count_nonzero(keep)))
    if n == 0:
        return []
    top = np.argpartition(-sims, n - 1)[:n]
    top = top[np.argsort(-sims[top], kind="stable")]
    return [(int(i), float(sims[i])) for i in top]


_EMBEDDERS: dict[tuple[str, object], Embedder] = {}


def shared_embedder(name: str) -> Embedder:
    """One embedder per name (and model files) for the whole process, so every KnowledgeBase a
    long-lived process opens (serve, mcp, notebooks) shares the loaded model."""
    from day2ai.knowledge.embeddings import embedder_named, minilm_files

    key = (name, minilm_files())
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = embedder_named(name)
    return _EMBEDDERS[key]
