"""Markdown runbooks and postmortems -> documents and heading chunks (pure, no I/O).

Front matter is optional YAML between ``---`` lines at the top of the file::

    ---
    service: payments            # or services: [payments, orders-db]
    faults: [connection_pool_exhaustion]   # or fault: ...; words of day2ai.models.Fault
    kind: runbook                # runbook | postmortem | doc; else guessed from the folder
    date: 2026-03-14
    severity: SEV2
    owner: team-payments
    ---

Documents are split at H1-H3 headings (ATX ``#`` style; headings inside fenced code blocks are
ignored). Each section becomes one chunk whose anchor is the GitHub slug of its heading; text before
the first section heading is the intro chunk with anchor ``None``. Long sections are split at
paragraph boundaries into several chunks that share the anchor. Document text is untrusted data:
it is stored and returned, never interpreted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from day2ai import yamlsafe
from day2ai.errors import InputError
from day2ai.knowledge.types import Chunk, DocKind, Document
from day2ai.models import Fault

MAX_CHUNK_WORDS = 180
SUMMARY_CHARS = 400
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_ROOT_CAUSE = re.compile(r"root[ -]?cause|^cause|why it happened|contributing factor", re.IGNORECASE)
_FIX = re.compile(r"resolution|^fix|remediation|mitigation|how (we|it was) fixed|recovery|what fixed", re.I)
_FAULTS = {f.value for f in Fault}


@dataclass
class ParsedFile:
    """A parsed document, its chunks, and warnings about its front matter."""

    document: Document
    chunks: list[Chunk]
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Section:
    level: int
    heading: str | None
    anchor: str | None
    lines: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n".join(self.lines).strip()


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def slugify(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter mapping, body, number of lines the front matter took)."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text, 0
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text, 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            raw = "\n".join(lines[1:i])
            try:
                data = yamlsafe.load(raw) if raw.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = f":{mark.line + 2}" if mark is not None else ""
                limit = f" ({exc.problem})" if isinstance(exc, yamlsafe.YamlLimitError) else ""
                raise InputError(f"{path}{line}: front matter is not valid YAML{limit}") from exc
            if not isinstance(data, dict):
                raise InputError(f"{path}:2: front matter must be a mapping of fields")
            return data, "\n".join(lines[i + 1 :]), i + 1
    raise InputError(f"{path}:1: front matter starts with '---' but is never closed")


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,\s]+", str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def _field(meta: dict[str, Any], *names: str) -> Any:
    for name in names:
        if meta.get(name) is not None:
            return meta[name]
    return None


def parse_faults(meta: dict[str, Any], path: str, warnings: list[str]) -> tuple[Fault, ...]:
    """Fault words of the front matter; unknown words are dropped with a warning naming file and field."""
    name = "faults" if "faults" in meta else "fault"
    out: list[Fault] = []
    for word in _words(_field(meta, "faults", "fault")):
        norm = word.lower().replace("-", "_").replace(" ", "_")
        if norm in _FAULTS:
            if Fault(norm) not in out:
                out.append(Fault(norm))
        else:
            warnings.append(f"{path}: front matter field '{name}': unknown fault word '{word}' (ignored)")
    return tuple(out)


def guess_kind(meta: dict[str, Any], path: str, warnings: list[str]) -> DocKind:
    """Front matter ``kind``, else the folder name (runbooks/, postmortems/, incidents/), else doc."""
    raw = meta.get("kind") or meta.get("type")
    if raw is not None:
        word = str(raw).strip().lower().replace("-", "")
        aliases = {
            "runbook": "runbook",
            "playbook": "runbook",
            "postmortem": "postmortem",
            "incident": "postmortem",
            "incidentreview": "postmortem",
            "doc": "doc",
        }
        if word in aliases:
            return DocKind(aliases[word])
        warnings.append(f"{path}: front matter field 'kind': unknown kind '{raw}' (guessed from the path)")
    lowered = path.lower()
    if any(w in lowered for w in ("postmortem", "post-mortem", "incident", "retro")):
        return DocKind.POSTMORTEM
    if any(w in lowered for w in ("runbook", "playbook")):
        return DocKind.RUNBOOK
    return DocKind.DOC


def _sections(body: str) -> tuple[str | None, list[_Section]]:
    """Split the body at H1-H3 headings, ignoring fenced code. Returns (first H1 text, sections)."""
    sections = [_Section(level=0, heading=None, anchor=None)]
    h1: str | None = None
    seen: dict[str, int] = {}
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None or len(match.group(1)) > 3:
            sections[-1].lines.append(line)
            continue
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and h1 is None:
            h1 = heading
            continue
        slug = slugify(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchor = slug if count == 0 else f"{slug}-{count}"
        sections.append(_Section(level=level, heading=heading, anchor=anchor))
    return h1, sections


def _pieces(body: str, max_words: int) -> list[str]:
    """Split a long body at blank lines (then at lines) into pieces of about ``max_words`` words."""
    if len(body.split()) <= max_words:
        return [body]
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    units: list[str] = []
    for para in paragraphs:
        units.extend(para.split("\n") if len(para.split()) > max_words else [para])
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        n = len(unit.split())
        if current and size + n > max_words:
            pieces.append("\n\n".join(current))
            current, size = [], 0
        current.append(unit)
        size += n
    if current:
        pieces.append("\n\n".join(current))
    return pieces


def _summary(sections: Iterable[_Section], pattern: re.Pattern[str]) -> str:
    for sec in sections:
        if sec.heading and pattern.search(sec.heading.strip()) and sec.body:
            text = re.sub(r"\s+", " ", sec.body)
            return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"
    return ""


def parse_markdown(text: str, path: str, max_words: int = MAX_CHUNK_WORDS) -> ParsedFile:
    """Parse one Markdown file (``path`` is relative to the ingested directory)."""
    warnings: list[str] = []
    meta, body, _ = split_front_matter(text, path)
    h1, sections = _sections(body)
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " ").replace("_", " ")
    title = str(meta.get("title") or h1 or stem).strip()
    named = _words(meta.get("service")) + _words(meta.get("services"))
    services = tuple(dict.fromkeys(s.lower() for s in named))
    faults = parse_faults(meta, path, warnings)
    kind = guess_kind(meta, path, warnings)
    doc_hash = sha256(text)
    root_cause = str(meta.get("root_cause") or _summary(sections, _ROOT_CAUSE)).strip()
    fix = str(meta.get("fix") or _summary(sections, _FIX)).strip()
    document = Document(
        path=path,
        title=title,
        kind=kind,
        services=services,
        faults=faults,
        date=None if meta.get("date") is None else str(meta["date"]),
        severity=None if meta.get("severity") is None else str(meta["severity"]),
        owner=None if meta.get("owner") is None else str(meta["owner"]),
        content_hash=doc_hash,
        root_cause=root_cause,
        fix=fix,
    )
    chunks: list[Chunk] = []
    carry = ""
    for sec in sections:
        if not sec.body:
            carry = f"{carry} {sec.heading}".strip() if sec.heading else carry
            continue
        sec_title = title if sec.heading is None else f"{title}: {sec.heading}"
        for piece in _pieces(sec.body, max_words):
            head = f"{sec_title}\n{carry}".strip()
            chunk_text = f"{head}\n{piece}"
            chunks.append(
                Chunk(
                    id=f"{path}::{len(chunks)}",
                    path=path,
                    anchor=sec.anchor,
                    title=sec_title,
                    kind=kind,
                    services=services,
                    faults=faults,
                    text=chunk_text,
                    content_hash=sha256(chunk_text),
                    doc_hash=doc_hash,
                    ordinal=len(chunks),
                )
            )
        carry = ""
    if not chunks:
        chunks.append(
            Chunk(
                id=f"{path}::0",
                path=path,
                anchor=None,
                title=title,
                kind=kind,
                services=services,
                faults=faults,
                text=title,
                content_hash=sha256(title),
                doc_hash=doc_hash,
            )
        )
    return ParsedFile(document=document, chunks=chunks, warnings=warnings)
