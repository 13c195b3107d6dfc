"""Data types of the knowledge base: documents, chunks, search hits, past incidents, statistics.

Pure data, no I/O. Everything here crosses a boundary (CLI JSON, LLM tools, reports).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from day2ai.models import Fault


class DocKind(StrEnum):
    """What a knowledge document is for."""

    RUNBOOK = "runbook"
    POSTMORTEM = "postmortem"
    DOC = "doc"


class Document(BaseModel):
    """One Markdown file after front matter parsing (before chunking)."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="path relative to the ingested directory, with '/' separators")
    title: str
    kind: DocKind
    services: tuple[str, ...] = ()
    faults: tuple[Fault, ...] = ()
    date: str | None = None
    severity: str | None = None
    owner: str | None = None
    content_hash: str
    root_cause: str = Field(default="", description="postmortems: the text of the root cause section")
    fix: str = Field(default="", description="postmortems: the text of the resolution / fix section")


class Chunk(BaseModel):
    """One section of a document (a heading and its body), the unit that is embedded and ranked."""

    model_config = ConfigDict(frozen=True)

    id: str
    path: str
    anchor: str | None = Field(description="GitHub-style slug of the section heading; None for the intro")
    title: str = Field(description="'Document title: Section heading' (or the document title)")
    kind: DocKind
    services: tuple[str, ...] = ()
    faults: tuple[Fault, ...] = ()
    text: str
    content_hash: str = Field(description="sha256 of the chunk text, to reuse embeddings on re-ingest")
    doc_hash: str = Field(description="sha256 of the whole file, to skip unchanged files")
    ordinal: int = 0


class Hit(BaseModel):
    """A search result: the best matching section of one document."""

    path: str
    anchor: str | None
    title: str
    kind: DocKind
    score: float = Field(description="hybrid relevance in [0, 1], higher is better; comparable within a query")
    services: list[str] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    snippet: str = ""

    @property
    def ref(self) -> str:
        """``path#anchor`` (or just ``path``), the form reports cite."""
        return f"{self.path}#{self.anchor}" if self.anchor else self.path

    def contract(self) -> dict[str, object]:
        """The JSON object of ``day2ai kb search --format json`` (contract keys plus extras)."""
        return {
            "path": self.path,
            "anchor": self.anchor,
            "title": self.title,
            "kind": self.kind.value,
            "score": round(self.score, 4),
            "services": self.services,
            "faults": [f.value for f in self.faults],
            "snippet": self.snippet,
        }


class SimilarIncident(BaseModel):
    """A past postmortem that resembles the current evidence: a prior, never proof."""

    path: str
    title: str
    similarity: float = Field(description="cosine similarity of the evidence and the postmortem, in [-1, 1]")
    score: float = Field(description="hybrid relevance used for ranking, in [0, 1]")
    date: str | None = None
    service: str | None = Field(default=None, description="root-cause service named by the postmortem")
    fault: Fault | None = Field(default=None, description="root-cause fault named by the postmortem")
    root_cause: str = ""
    fix: str = ""
    anchor: str | None = Field(default=None, description="the best matching section")

    @property
    def ref(self) -> str:
        return f"{self.path}#{self.anchor}" if self.anchor else self.path


class IngestStats(BaseModel):
    """What one ``ingest`` run changed, counted in documents (files)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list)


class KBStats(BaseModel):
    """What an index holds."""

    backend: str = Field(description="'persistent:PATH' or 'http://HOST:PORT'")
    collection: str
    embedder: str
    embedder_dim: int
    documents: int
    chunks: int
    by_kind: dict[str, int] = Field(default_factory=dict)
    services: dict[str, int] = Field(default_factory=dict, description="documents per service")
    faults: dict[str, int] = Field(default_factory=dict, description="documents per fault")
