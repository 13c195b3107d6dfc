"""``KnowledgeBase``: ingest Markdown runbooks and postmortems, search them, find similar incidents.

Async-first: ``aingest``, ``asearch``, ``asimilar_incidents``, ``arunbook_for``, ``astats`` run the
blocking work (chroma, ONNX) in a worker thread; ``ingest``, ``search``, ... are the same calls
made synchronously (safe inside Jupyter, which already runs an event loop).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from day2ai.errors import InputError, KnowledgeError
from day2ai.knowledge.embeddings import Embedder, default_embedder, embedder_named
from day2ai.knowledge.markdown import ParsedFile, parse_markdown, sha256
from day2ai.knowledge.search import (
    Catalogue,
    Fusion,
    Mode,
    collapse,
    fault_query,
    fuse,
    lexical_ranking,
    single_ranking,
)
from day2ai.knowledge.similar import evidence_query
from day2ai.knowledge.snapshot import Snapshot, read_snapshot, shared_embedder, vector_ranking, write_snapshot
from day2ai.knowledge.store import (
    DEFAULT_COLLECTION,
    ChromaStore,
    ServerAddress,
    chunk_metadata,
    where_filter,
)
from day2ai.knowledge.types import DocKind, Hit, IngestStats, KBStats, SimilarIncident
from day2ai.models import Evidence, Fault

DEFAULT_INDEX = Path(".day2ai/kb")
CHROMA_DB = "chroma.sqlite3"  # the file chromadb.PersistentClient keeps in its folder
MARKDOWN_SUFFIXES = (".md", ".markdown")
POOL = 50
log = logging.getLogger(__name__)


@dataclass
class _Existing:
    doc_hash: str
    ids: list[str]


def parse_server(value: str | ServerAddress) -> ServerAddress:
    """``host:port``, ``http://host:port`` or ``https://host:port`` -> ServerAddress."""
    if isinstance(value, ServerAddress):
        return value
    text = value.strip()
    ssl = text.startswith("https://")
    text = text.split("://", 1)[-1].rstrip("/")
    host, _, port = text.rpartition(":")
    if not host:
        host, port = text, "443" if ssl else "8000"
    if not port.isdigit():
        raise InputError(f"chroma server {value!r}: expected host:port")
    return ServerAddress(host=host, port=int(port), ssl=ssl)


def markdown_files(root: Path) -> list[Path]:
    """Markdown files under ``root`` (hidden folders skipped), sorted for a stable order."""
    files = [
        p
        for p in root.rglob("*")
        if p.suffix.lower() in MARKDOWN_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(files)


def _inside(real_root: Path, file: Path) -> bool:
    """Whether ``file`` with its symlinks resolved stays inside the (resolved) ingested directory."""
    try:
        return file.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _parse_dir(root: Path) -> tuple[list[ParsedFile], set[str], list[str]]:
    """Parse every Markdown file: (parsed files, paths that failed to parse, warnings)."""
    parsed: list[ParsedFile] = []
    failed: set[str] = set()
    warnings: list[str] = []
    real_root = root.resolve()
    for file in markdown_files(root):
        rel = file.relative_to(root).as_posix()
        if not _inside(real_root, file):
            warnings.append(f"{rel}: links to a file outside {root} (skipped: never read)")
            continue
        try:
            text = file.read_text(encoding="utf-8")
            item = parse_markdown(text, rel)
        except UnicodeDecodeError:
            failed.add(rel)
            warnings.append(f"{rel}: not UTF-8 text (skipped)")
            continue
        except InputError as exc:
            failed.add(rel)
            warnings.append(f"{exc} (skipped)")
            continue
        parsed.append(item)
        warnings.extend(item.warnings)
    return parsed, failed, warnings


class KnowledgeBase:
    """Runbooks and postmortems in a chroma index, searched by hybrid (vector + BM25) ranking.

    ``path``: the embedded index folder (default ``.day2ai/kb``); ``server``: ``host:port`` of a
    shared Chroma server instead (then ``path`` is ignored).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = DEFAULT_INDEX,
        *,
        server: str | ServerAddress | None = None,
        collection: str = DEFAULT_COLLECTION,
        embedder: Embedder | None = None,
        fusion: Fusion | str = Fusion.BLEND,
    ):
        self._path = Path(path) if path is not None else None
        self._server = parse_server(server) if server is not None else None
        if self._server is None and self._path is None:
            raise InputError("KnowledgeBase needs a path or a server")
        self._collection = collection
        self._embedder = embedder
        self.fusion = Fusion(fusion)
        self._store: ChromaStore | None = None
        self._catalogue: Catalogue | None = None
        self._snap: Snapshot | None = None  # numpy copy of an embedded index: searches without chromadb
        self._lock = threading.RLock()

    # ---- plumbing ---------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedder given, else the one an existing index was built with, else the default."""
        if self._embedder is None and (snap := self._fast()) is not None:
            self._embedder = shared_embedder(snap.embedder)
        if self._embedder is None:
            store = self._connect(create=False)
            name = store.built_with() if store is not None else None
            self._embedder = embedder_named(name) if name else default_embedder()
        return self._embedder

    def _connect(self, create: bool) -> ChromaStore | None:
        if self._store is None:
            # Reading never creates an index: a folder without chroma's database is "no index here".
            if (
                not create
                and self._server is None
                and self._path is not None
                and not (self._path / CHROMA_DB).is_file()
            ):
                return None
            self._store = ChromaStore(self._path, self._server, self._collection)
        return self._store

    def _open(self, create: bool) -> ChromaStore | None:
        store = self._connect(create)
        if store is None or store.ready:
            return store
        return store if store.open(self.embedder.name, self.embedder.dim, create) else None

    def exists(self) -> bool:
        """True when the index holds a knowledge collection (ingested at least once)."""
        with self._lock:
            if self._fast() is not None:
                return True
            store = self._connect(create=False)
            return store is not None and store.built_with() is not None

    def _fast(self) -> Snapshot | None:
        """The search snapshot of an embedded index (None for a server, or when missing or stale)."""
        if self._snap is None and self._server is None and self._path is not None:
            self._snap = read_snapshot(self._path)
        return self._snap

    def _save_snapshot(self, store: ChromaStore, records: tuple[list[str], list[str], list[dict[str, Any]]]) -> None:
        """Write the search snapshot of an embedded index (an optimisation: failures are only logged)."""
        if self._server is not None or self._path is None:
            return
        ids, texts, metas = records
        try:
            vectors: dict[str, np.ndarray] = {}
            for start in range(0, len(ids), 2000):
                vectors.update(store.embeddings_for(ids[start : start + 2000]))
            matrix = np.stack([vectors[i] for i in ids]) if ids else np.zeros((0, self.embedder.dim), np.float32)
            write_snapshot(self._path, Snapshot(ids, texts, metas, matrix.astype(np.float32), self.embedder.name))
        except (OSError, KeyError, ValueError, KnowledgeError) as exc:
            log.warning("cannot write the search snapshot of %s: %s", self._path, exc)

    def _load(self) -> Catalogue | None:
        with self._lock:
            if self._catalogue is None and (snap := self._fast()) is not None:
                self._catalogue = Catalogue.build(snap.ids, snap.texts, snap.metas)
            if self._catalogue is None:
                store = self._open(create=False)
                if store is None:
                    return None
                records = store.all_records()
                self._catalogue = Catalogue.build(*records)
                self._save_snapshot(store, records)
            return self._catalogue

    # ---- ingestion --------------------------------------------------------------------------

    def _ingest(self, directory: str | os.PathLike[str]) -> IngestStats:
        started = time.perf_counter()
        root = Path(directory)
        if not root.is_dir():
            raise InputError(f"{root}: not a directory")
        parsed, failed, warnings = _parse_dir(root)
        if not parsed and not failed:
            warnings.append(f"{root}: no Markdown files found")
        source = str(root.resolve())
        prefix = sha256(source)[:8]
        with self._lock:
            store = self._open(create=True)
            if store is None:  # pragma: no cover - create=True always opens
                raise KnowledgeError("cannot create the knowledge index")
            ids, _, metas = store.all_records()
            existing: dict[str, _Existing] = {}
            for cid, meta in zip(ids, metas, strict=True):
                if meta.get("source") == source:
                    ex = existing.setdefault(str(meta["path"]), _Existing(str(meta.get("doc_hash")), []))
                    ex.ids.append(cid)
            stats = IngestStats(warnings=warnings)
            self._apply(store, parsed, existing, prefix, source, stats)
            gone = [p for p in existing if p not in {f.document.path for f in parsed} and p not in failed]
            store.delete([cid for p in gone for cid in existing[p].ids])
            stats.removed = len(gone)
            self._catalogue = None
            self._snap = None
            self._save_snapshot(store, store.all_records())
        stats.seconds = round(time.perf_counter() - started, 3)
        return stats

    def _apply(
        self,
        store: ChromaStore,
        parsed: list[ParsedFile],
        existing: dict[str, _Existing],
        prefix: str,
        source: str,
        stats: IngestStats,
    ) -> None:
        """Upsert new and changed documents, reusing the vectors of chunks whose text is unchanged."""
        new_ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, object]] = []
        stale: list[str] = []
        reuse: dict[str, str] = {}  # content hash -> an old chunk id with that text
        for item in parsed:
            old = existing.get(item.document.path)
            ids = [f"{prefix}:{c.id}" for c in item.chunks]
            if old is not None and old.doc_hash == item.document.content_hash and sorted(old.ids) == sorted(ids):
                stats.unchanged += 1
                continue
            if old is None:
                stats.added += 1
            else:
                stats.updated += 1
                stale += [cid for cid in old.ids if cid not in set(ids)]
                reuse.update(store.content_hashes(old.ids))
            for cid, chunk in zip(ids, item.chunks, strict=True):
                new_ids.append(cid)
                texts.append(chunk.text)
                metas.append(chunk_metadata(chunk, item.document, source))
        if not new_ids:
            store.delete(stale)
            return
        old_vectors = store.embeddings_for(sorted(set(reuse.values())))
        vectors = np.zeros((len(new_ids), self.embedder.dim), dtype=np.float32)
        todo = []
        for row, meta in enumerate(metas):
            old_id = reuse.get(str(meta["content_hash"]))
            if old_id is not None and old_id in old_vectors:
                vectors[row] = old_vectors[old_id]
            else:
                todo.append(row)
        if todo:
            vectors[todo] = self.embedder.embed([texts[r] for r in todo])
        stats.chunks_embedded = len(todo)
        stats.chunks_reused = len(new_ids) - len(todo)
        store.upsert(new_ids, texts, metas, vectors)
        store.delete(stale)

    # ---- search -----------------------------------------------------------------------------

    def _rank(
        self, query: str, *, service: str | None, fault: str | None, kind: str | None, mode: Mode, pool: int
    ) -> tuple[Catalogue | None, list[tuple[int, float]]]:
        catalogue = self._load()
        if catalogue is None or len(catalogue) == 0 or not query.strip():
            return catalogue, []
        keep = catalogue.mask(service, fault, kind)
        vector: list[tuple[int, float]] = []
        lexical: list[tuple[int, float]] = []
        snap = self._snap
        if mode is not Mode.LEXICAL and snap is not None and snap.embedder == self.embedder.name:
            vector = vector_ranking(snap.vectors, self.embedder.embed([query])[0], keep, pool)
        elif mode is not Mode.LEXICAL:
            store = self._open(create=False)
            if store is not None:
                emb = self.embedder.embed([query])[0]
                found = store.query(emb, pool, where_filter(service, fault, kind))
                vector = [(catalogue.position[cid], sim) for cid, sim in found if cid in catalogue.position]
        if mode is not Mode.VECTOR:
            lexical = lexical_ranking(catalogue.lexical.scores(query), keep, pool)
        if mode is Mode.VECTOR:
            return catalogue, single_ranking(vector, lexical=False)
        if mode is Mode.LEXICAL:
            return catalogue, single_ranking(lexical, lexical=True)
        return catalogue, fuse(vector, lexical, self.fusion)

    def _search(
        self,
        query: str,
        k: int = 5,
        service: str | None = None,
        fault: Fault | str | None = None,
        kind: DocKind | str | None = None,
        mode: Mode | str = Mode.HYBRID,
    ) -> list[Hit]:
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        fault_word = _fault_word(fault)
        kind_word = DocKind(kind).value if kind is not None else None
        catalogue, ranked = self._rank(
            query, service=service, fault=fault_word, kind=kind_word, mode=Mode(mode), pool=max(POOL, 10 * k)
        )
        return collapse(catalogue, ranked, k) if catalogue is not None else []

    def _similar(self, evidence: str | Sequence[Evidence], k: int = 3) -> list[SimilarIncident]:
        query = evidence_query(evidence)
        hits = self._search(query, k=k, kind=DocKind.POSTMORTEM)
        if not hits:
            return []
        catalogue = self._load()
        store = self._open(create=False)
        if catalogue is None or store is None:  # pragma: no cover - hits imply both
            return []
        q = self.embedder.embed([query])[0]
        out: list[SimilarIncident] = []
        for hit in hits:
            idx = _chunk_index(catalogue, hit)
            meta = catalogue.metas[idx]
            vec = store.embeddings_for([catalogue.ids[idx]]).get(catalogue.ids[idx])
            sim = float(np.dot(q, vec)) if vec is not None else 0.0
            services = [s for s in str(meta.get("services", "")).split(",") if s]
            faults = [f for f in str(meta.get("faults", "")).split(",") if f]
            out.append(
                SimilarIncident(
                    path=hit.path,
                    title=str(meta.get("doc_title") or hit.title),
                    similarity=round(sim, 4),
                    score=hit.score,
                    date=str(meta.get("date")) or None,
                    service=services[0] if services else None,
                    fault=Fault(faults[0]) if faults else None,
                    root_cause=str(meta.get("root_cause", "")),
                    fix=str(meta.get("fix", "")),
                    anchor=hit.anchor,
                )
            )
        return out

    def _runbook_for(self, service: str, fault: Fault | str) -> Hit | None:
        """The runbook section for (service, fault): tagged with both, else a generic runbook (no
        service tag) for the fault, else the service's runbook as a whole (no anchor: a section about
        another fault would mislead). None when nothing fits."""
        query = fault_query(service, fault)
        fault_word = _fault_word(fault)
        hits = self._search(query, k=1, service=service, fault=fault_word, kind=DocKind.RUNBOOK)
        if hits:
            return hits[0]
        generic = self._search(query, k=10, fault=fault_word, kind=DocKind.RUNBOOK)
        hit = next((h for h in generic if not h.services or "all" in h.services), None)
        if hit is not None:
            return hit
        own = self._search(query, k=1, service=service, kind=DocKind.RUNBOOK)
        return own[0].model_copy(update={"anchor": None}) if own else None

    def _stats(self) -> KBStats:
        catalogue = self._load()
        store = self._store
        backend = store.backend if store is not None else f"persistent:{self._path}"
        metas = catalogue.metas if catalogue is not None else []
        docs: dict[str, dict[str, object]] = {}
        for meta in metas:
            docs.setdefault(str(meta.get("path")), meta)

        def count(key: str) -> Counter[str]:
            return Counter(w for m in docs.values() for w in str(m.get(key, "")).split(",") if w)

        return KBStats(
            backend=backend,
            collection=self._collection,
            embedder=self.embedder.name,
            embedder_dim=self.embedder.dim,
            documents=len(docs),
            chunks=len(metas),
            by_kind=dict(Counter(str(m.get("kind")) for m in docs.values())),
            services=dict(count("services").most_common()),
            faults=dict(count("faults").most_common()),
        )

    # ---- public API: sync ---------------------------------------------------------------------

    def ingest(self, directory: str | os.PathLike[str]) -> IngestStats:
        """Add new, update changed and remove deleted Markdown files of ``directory``."""
        return self._ingest(directory)

    def search(
        self,
        query: str,
        k: int = 5,
        service: str | None = None,
        fault: Fault | str | None = None,
        kind: DocKind | str | None = None,
        mode: Mode | str = Mode.HYBRID,
    ) -> list[Hit]:
        """The ``k`` best documents for ``query`` (best section of each), best first."""
        return self._search(query, k, service, fault, kind, mode)

    def similar_incidents(self, evidence: str | Sequence[Evidence], k: int = 3) -> list[SimilarIncident]:
        """Postmortems similar to the evidence (text, or Evidence items), with their cause and fix."""
        return self._similar(evidence, k)

    def runbook_for(self, service: str, fault: Fault | str) -> Hit | None:
        """The runbook section to cite (``hit.ref``) in a remediation for (service, fault)."""
        return self._runbook_for(service, fault)

    def stats(self) -> KBStats:
        return self._stats()

    # ---- public API: async --------------------------------------------------------------------

    async def aingest(self, directory: str | os.PathLike[str]) -> IngestStats:
        return await asyncio.to_thread(self._ingest, directory)

    async def asearch(
        self,
        query: str,
        k: int = 5,
        service: str | None = None,
        fault: Fault | str | None = None,
        kind: DocKind | str | None = None,
        mode: Mode | str = Mode.HYBRID,
    ) -> list[Hit]:
        return await asyncio.to_thread(self._search, query, k, service, fault, kind, mode)

    async def asimilar_incidents(self, evidence: str | Sequence[Evidence], k: int = 3) -> list[SimilarIncident]:
        return await asyncio.to_thread(self._similar, evidence, k)

    async def arunbook_for(self, service: str, fault: Fault | str) -> Hit | None:
        return await asyncio.to_thread(self._runbook_for, service, fault)

    async def astats(self) -> KBStats:
        return await asyncio.to_thread(self._stats)


def _fault_word(fault: Fault | str | None) -> str | None:
    if fault is None:
        return None
    try:
        return Fault(str(fault).lower()).value
    except ValueError:
        known = ", ".join(f.value for f in Fault)
        raise InputError(f"unknown fault {fault!r}; expected one of: {known}") from None


def _chunk_index(catalogue: Catalogue, hit: Hit) -> int:
    for i, meta in enumerate(catalogue.metas):
        if meta.get("path") == hit.path and (meta.get("anchor") or None) == hit.anchor:
            return i
    raise KnowledgeError(f"{hit.ref} is not in the index")  # pragma: no cover - hits come from the index
