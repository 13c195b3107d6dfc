"""``day2ai kb ...``: build and query the knowledge base of runbooks and postmortems.

- ``day2ai kb ingest DIR --index PATH``: add new, update changed and remove deleted Markdown files;
  prints the added/updated/removed/unchanged counts (JSON with ``--format json``); front matter
  warnings go to stderr.
- ``day2ai kb search QUERY --index PATH --format json``: a JSON list, best first, of
  ``{"path", "anchor", "title", "kind", "score", ...}`` (the CLI contract's keys plus extras).
- ``day2ai kb stats --index PATH``: documents, chunks, kinds, services, faults, embedding.

``--server HOST:PORT`` uses a shared Chroma server instead of the embedded index.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from day2ai.cli.common import cli_errors, echo_json
from day2ai.errors import InputError
from day2ai.safetext import clean

if TYPE_CHECKING:
    from day2ai.knowledge import KnowledgeBase

DEFAULT_INDEX = Path(".day2ai/kb")


class Format(StrEnum):
    text = "text"
    json = "json"


class Embedding(StrEnum):
    auto = "auto"
    minilm = "minilm"
    hashing = "hashing"


class SearchMode(StrEnum):
    hybrid = "hybrid"
    vector = "vector"
    lexical = "lexical"


IndexOpt = Annotated[Path, typer.Option("--index", help="Folder of the embedded knowledge index.")]
ServerOpt = Annotated[
    str | None, typer.Option("--server", help="HOST:PORT of a shared Chroma server (instead of --index).")
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]


def _open(index: Path, server: str | None, embedding: Embedding = Embedding.auto) -> KnowledgeBase:
    from day2ai.knowledge import KnowledgeBase
    from day2ai.knowledge.embeddings import default_embedder

    embedder = None if embedding is Embedding.auto else default_embedder(embedding.value)
    return KnowledgeBase(index, server=server, embedder=embedder)


def _existing(index: Path, server: str | None) -> KnowledgeBase:
    kb = _open(index, server)
    if not kb.exists():
        if server is None:
            raise InputError(f"{index}: no knowledge index here; build one with 'day2ai kb ingest DIR --index {index}'")
        raise InputError(f"{server}: the server has no knowledge index; run 'day2ai kb ingest DIR --server {server}'")
    return kb


def register(app: typer.Typer) -> None:
    """Add the ``kb`` command group to the ``day2ai`` app."""
    kb_app = typer.Typer(name="kb", help="Knowledge base: runbooks and postmortems.", no_args_is_help=True)

    @kb_app.command("ingest")
    @cli_errors
    def ingest(
        directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder of Markdown runbooks/postmortems.")],
        index: IndexOpt = DEFAULT_INDEX,
        server: ServerOpt = None,
        embedding: Annotated[
            Embedding, typer.Option("--embedding", help="auto: the packaged MiniLM model if installed.")
        ] = Embedding.auto,
        output: FormatOpt = Format.text,
    ) -> None:
        """Add or update every runbook and postmortem under DIR; unchanged files are skipped."""
        if not directory.is_dir():
            raise InputError(f"{directory}: not a directory")
        stats = _open(index, server, embedding).ingest(directory)
        for warning in stats.warnings:
            print(f"day2ai: warning: {clean(warning)}", file=sys.stderr)
        if output is Format.json:
            echo_json(stats.model_dump(mode="json"))
            return
        print(
            f"added {stats.added}, updated {stats.updated}, removed {stats.removed}, "
            f"unchanged {stats.unchanged} documents ({stats.chunks_embedded} chunks embedded, "
            f"{stats.chunks_reused} reused) in {stats.seconds:.1f} s"
        )

    @kb_app.command("search")
    @cli_errors
    def search(
        query: Annotated[str, typer.Argument(metavar="QUERY", help="Symptoms, an error message, a question.")],
        index: IndexOpt = DEFAULT_INDEX,
        server: ServerOpt = None,
        k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="Number of documents.")] = 5,
        service: Annotated[str | None, typer.Option(help="Only documents about this service.")] = None,
        fault: Annotated[str | None, typer.Option(help="Only documents about this fault word.")] = None,
        kind: Annotated[str | None, typer.Option(help="runbook, postmortem or doc.")] = None,
        mode: Annotated[SearchMode, typer.Option(help="Ranking: hybrid, vector or lexical.")] = SearchMode.hybrid,
        output: FormatOpt = Format.text,
    ) -> None:
        """Search the knowledge base; best documents first."""
        from day2ai.knowledge.types import DocKind

        if kind is not None and kind not in {k.value for k in DocKind}:
            raise InputError(f"--kind {kind!r}: expected one of runbook, postmortem, doc")
        kb = _existing(index, server)
        hits = kb.search(query, k=k, service=service, fault=fault, kind=kind, mode=mode.value)
        if output is Format.json:
            echo_json([h.contract() for h in hits])
            return
        if not hits:
            print("no match")
        from day2ai.redact import redact

        for n, hit in enumerate(hits, start=1):  # documents are untrusted: no secrets, no escape sequences
            print(clean(redact(f"{n}. {hit.ref}  [{hit.kind.value}] {hit.title}  (score {hit.score:.2f})")))
            print(f"   {clean(redact(hit.snippet))}")

    @kb_app.command("stats")
    @cli_errors
    def stats(index: IndexOpt = DEFAULT_INDEX, server: ServerOpt = None, output: FormatOpt = Format.text) -> None:
        """What the knowledge index holds, and which embedding built it."""
        result = _existing(index, server).stats()
        if output is Format.json:
            echo_json(result.model_dump(mode="json"))
            return
        print(f"index:      {result.backend} (collection {result.collection})")
        print(f"embedding:  {result.embedder} ({result.embedder_dim} dims)")
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(result.by_kind.items()))
        print(f"documents:  {result.documents} ({kinds})")
        print(f"chunks:     {result.chunks}")
        print(f"services:   {', '.join(f'{k} {v}' for k, v in result.services.items()) or '-'}")
        print(f"faults:     {', '.join(f'{k} {v}' for k, v in result.faults.items()) or '-'}")

    app.add_typer(kb_app, name="kb")
