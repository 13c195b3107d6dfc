"""The knowledge base: runbooks and postmortems, hybrid search, similar past incidents.

Needs the ``kb`` extra (chromadb, bm25s, and the packaged MiniLM embedding model).
"""

from day2ai.knowledge.base import DEFAULT_INDEX, KnowledgeBase
from day2ai.knowledge.links import link_runbooks, with_runbook
from day2ai.knowledge.search import Fusion, Mode
from day2ai.knowledge.similar import as_evidence
from day2ai.knowledge.types import Chunk, DocKind, Document, Hit, IngestStats, KBStats, SimilarIncident

__all__ = [
    "DEFAULT_INDEX",
    "Chunk",
    "DocKind",
    "Document",
    "Fusion",
    "Hit",
    "IngestStats",
    "KBStats",
    "KnowledgeBase",
    "Mode",
    "SimilarIncident",
    "as_evidence",
    "link_runbooks",
    "with_runbook",
]
