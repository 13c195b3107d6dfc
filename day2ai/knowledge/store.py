"""The chromadb side of the knowledge base: one collection of chunks, their vectors and metadata.

Embedded ``chromadb.PersistentClient`` at a path by default; ``chromadb.HttpClient`` for a shared
server. Vectors always come from day2ai's own embedder (the collection has no embedding function,
so chromadb never downloads its default model); telemetry is off. Chroma metadata values are
scalars, so list fields are stored twice: comma-joined for display, and as boolean flags
(``svc:payments``, ``fault:disk_full``) that ``where`` filters can test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from day2ai.errors import KnowledgeError
from day2ai.knowledge.types import Chunk, Document

DEFAULT_COLLECTION = "day2ai_knowledge"
Meta = dict[str, Any]


@dataclass(frozen=True)
class ServerAddress:
    """A Chroma server reached over HTTP."""

    host: str
    port: int = 8000
    ssl: bool = False

    def __str__(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"


def chunk_metadata(chunk: Chunk, doc: Document, source: str) -> Meta:
    """The chroma metadata of one chunk (scalars only, plus filter flags)."""
    meta: Meta = {
        "path": chunk.path,
        "anchor": chunk.anchor or "",
        "title": chunk.title,
        "doc_title": doc.title,
        "kind": chunk.kind.value,
        "services": ",".join(chunk.services),
        "faults": ",".join(f.value for f in chunk.faults),
        "content_hash": chunk.content_hash,
        "doc_hash": chunk.doc_hash,
        "ordinal": chunk.ordinal,
        "source": source,
        "date": doc.date or "",
        "severity": doc.severity or "",
        "root_cause": doc.root_cause,
        "fix": doc.fix,
    }
    for svc in chunk.services:
        meta[f"svc:{svc}"] = True
    for fault in chunk.faults:
        meta[f"fault:{fault.value}"] = True
    return meta


def where_filter(service: str | None, fault: str | None, kind: str | None) -> Meta | None:
    """A chroma ``where`` clause for the given filters (None when there is no filter)."""
    clauses: list[Meta] = []
    if service:
        clauses.append({f"svc:{service.lower()}": True})
    if fault:
        clauses.append({f"fault:{fault}": True})
    if kind:
        clauses.append({"kind": kind})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaStore:
    """Thin synchronous wrapper over one chroma collection; every chroma error becomes KnowledgeError."""

    def __init__(
        self,
        path: Path | None = None,
        server: ServerAddress | None = None,
        collection: str = DEFAULT_COLLECTION,
    ):
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise KnowledgeError("chromadb is needed for the knowledge base: pip install 'day2ai[kb]'") from exc
        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        try:
            if server is not None:
                self._client = chromadb.HttpClient(
                    host=server.host, port=server.port, ssl=server.ssl, settings=settings
                )
                self.backend = str(server)
            else:
                if path is None:
                    raise KnowledgeError("a knowledge index needs a path or a server")
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
                self.backend = f"persistent:{path}"
        except KnowledgeError:
            raise
        except Exception as exc:
            raise KnowledgeError(f"cannot open the chroma index ({path or server}): {exc}") from exc
        self.collection_name = collection
        self._col: Any = None
        try:
            self._max_batch = int(self._client.get_max_batch_size())
        except Exception:
            self._max_batch = 1000

    def built_with(self) -> str | None:
        """The embedder name recorded in an existing collection (None if there is none yet)."""
        try:
            names = {getattr(c, "name", c) for c in self._client.list_collections()}
            if self.collection_name not in names:
                return None
            col = self._client.get_collection(self.collection_name, embedding_function=None)
        except Exception as exc:
            raise KnowledgeError(f"cannot read collection {self.collection_name!r} on {self.backend}: {exc}") from exc
        value = (col.metadata or {}).get("embedder")
        return str(value) if value else None

    def open(self, embedder: str, dim: int, create: bool) -> bool:
        """Open the collection; False when it does not exist and ``create`` is False.

        An index built with another embedder cannot be searched with this one: KnowledgeError.
        """
        try:
            if create:
                self._col = self._client.get_or_create_collection(
                    self.collection_name,
                    embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedder": embedder, "dim": dim},
                )
            else:
                names = {getattr(c, "name", c) for c in self._client.list_collections()}
                if self.collection_name not in names:
                    return False
                self._col = self._client.get_collection(self.collection_name, embedding_function=None)
        except Exception as exc:
            raise KnowledgeError(f"cannot open collection {self.collection_name!r} on {self.backend}: {exc}") from exc
        built_with = (self._col.metadata or {}).get("embedder")
        if built_with and built_with != embedder:
            raise KnowledgeError(
                f"the index at {self.backend} was built with the {built_with} embedding but {embedder} "
                "is in use; re-ingest into a new --index or install the same embedding model"
            )
        return True

    @property
    def ready(self) -> bool:
        return self._col is not None

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._col is None:
            raise KnowledgeError("the knowledge index is not open")
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise KnowledgeError(f"chroma {what} failed on {self.backend}: {exc}") from exc

    def all_records(self) -> tuple[list[str], list[str], list[Meta]]:
        """Every chunk's id, text and metadata (paged, so large indexes work against servers too)."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[Meta] = []
        page = min(self._max_batch, 5000)
        offset = 0
        while True:
            got = self._call("get", self._col.get, include=["documents", "metadatas"], limit=page, offset=offset)
            ids += list(got["ids"])
            docs += list(got["documents"] or [])
            metas += [dict(m or {}) for m in got["metadatas"] or []]
            if len(got["ids"]) < page:
                return ids, docs, metas
            offset += page

    def embeddings_for(self, ids: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        if not ids:
            return {}
        got = self._call("get", self._col.get, ids=list(ids), include=["embeddings"])
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], embs, strict=True)}

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """content hash -> id, for the given chunk ids (to reuse vectors of unchanged text)."""
        if not ids:
            return {}
        got = self._call("get", self._col.get, ids=list(ids), include=["metadatas"])
        return {str((m or {}).get("content_hash")): cid for cid, m in zip(got["ids"], got["metadatas"], strict=True)}

    def upsert(self, ids: list[str], texts: list[str], metas: list[Meta], embeddings: npt.NDArray[np.float32]) -> None:
        step = max(1, min(self._max_batch, 2000))
        for start in range(0, len(ids), step):
            end = start + step
            self._call(
                "upsert",
                self._col.upsert,
                ids=ids[start:end],
                documents=texts[start:end],
                metadatas=metas[start:end],
                embeddings=embeddings[start:end].tolist(),
            )

    def delete(self, ids: list[str]) -> None:
        step = max(1, min(self._max_batch, 5000))
        for start in range(0, len(ids), step):
            self._call("delete", self._col.delete, ids=ids[start : start + step])

    def query(self, embedding: npt.NDArray[np.float32], n: int, where: Meta | None) -> list[tuple[str, float]]:
        """(id, cosine similarity) of the ``n`` nearest chunks that pass ``where``, best first."""
        got = self._call(
            "query",
            self._col.query,
            query_embeddings=[embedding.tolist()],
            n_results=max(1, n),
            where=where,
            include=["distances"],
        )
        ids = got["ids"][0] if got["ids"] else []
        dists = got["distances"][0] if got.get("distances") else [1.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]

    def count(self) -> int:
        return int(self._call("count", self._col.count))
