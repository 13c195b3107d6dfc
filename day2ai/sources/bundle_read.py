"""Bounded, forgiving line reading for the bundle's JSONL files.

A bundle comes from anywhere: a recorder, a converter, a hand edit, an attacker. Reading it must
neither lose good data because of one bad line, nor let a tiny file take the machine. So:

- a bad line (invalid JSON, bad UTF-8, a missing or mistyped field) is skipped and recorded in
  :class:`DataProblems`; the lines after it are read as usual;
- every read is bounded by :class:`BundleLimits`: line length (a longer line is skipped, never
  held in memory), bytes read per file after decompression (gzip bombs), records per file, and
  the length of free-text fields (cut and marked ``[... cut N chars]``);
- a truncated or corrupt gzip keeps the lines read before the damage;
- a UTF-8 byte order mark is accepted.

Each limit hit and each skipped line range becomes one problem, named in the report's gaps and
on stderr by ``day2ai investigate`` (``validate`` and ``--strict`` turn them into errors).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from day2ai.errors import BundleError, InputError
from day2ai.models import Gap

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class BundleLimits:
    """Resource limits of the bundle reader (docs/security.md). Each is named when it is hit."""

    max_line_bytes: int = 8 << 20  # a longer line is skipped without being held in memory
    max_file_bytes: int = 256 << 20  # bytes read per file after decompression
    max_records: int = 500_000  # records read per file
    max_text_chars: int = 64 << 10  # a longer log message / span name / summary is cut and marked

    @classmethod
    def from_env(cls) -> BundleLimits:
        """The defaults, each overridable by ``DAY2AI_BUNDLE_<NAME>`` (e.g. ``DAY2AI_BUNDLE_MAX_RECORDS``)."""
        values: dict[str, int] = {}
        for name in ("max_line_bytes", "max_file_bytes", "max_records", "max_text_chars"):
            raw = os.environ.get(f"DAY2AI_BUNDLE_{name.upper()}")
            if raw is not None:
                try:
                    values[name] = max(1, int(raw))
                except ValueError:
                    raise InputError(f"DAY2AI_BUNDLE_{name.upper()}={raw!r}: expected a whole number") from None
        return cls(**values)


DEFAULT_LIMITS = BundleLimits()


class Oversize:
    """Stands for a line longer than ``max_line_bytes`` (its bytes were not kept)."""

    def __init__(self, size: int):
        self.size = size


class DataProblems:
    """Problems met while reading a bundle: skipped lines and limits hit, deduplicated per file/line."""

    def __init__(self) -> None:
        self._by_file: dict[str, dict[int | None, BundleError]] = {}
        self._notes: dict[str, dict[int | None, BundleError]] = {}

    def add(self, err: BundleError) -> None:
        """A problem that lost data (a skipped line, a file read only in part)."""
        self._by_file.setdefault(err.file, {}).setdefault(err.line, err)

    def note(self, err: BundleError) -> None:
        """A limit applied without losing a record (a long text cut); named in the gaps, not an error."""
        self._notes.setdefault(err.file, {}).setdefault(err.line, err)

    def __bool__(self) -> bool:
        return bool(self._by_file)

    def errors(self) -> list[BundleError]:
        """Every problem, by file then line (line-less problems of a file last)."""
        out: list[BundleError] = []
        for per_line in self._by_file.values():
            out.extend(sorted(per_line.values(), key=lambda e: (e.line is None, e.line or 0)))
        return out

    def first_per_file(self) -> list[BundleError]:
        return [errs[0] for errs in (self._sorted(f) for f in self._by_file) if errs]

    def _sorted(self, file: str) -> list[BundleError]:
        return sorted(self._by_file[file].values(), key=lambda e: (e.line is None, e.line or 0))

    def summaries(self) -> list[tuple[str, str]]:
        """One ``(file, text)`` per file: how many lines were dropped (as ranges) and the first reason."""
        out: list[tuple[str, str]] = []
        for file in self._by_file:
            errs = self._sorted(file)
            lines = [e.line for e in errs if e.line is not None]
            parts: list[str] = []
            if lines:
                parts.append(f"skipped {len(lines)} bad line{'s' if len(lines) > 1 else ''} "
                              f"({line_ranges(lines)}); first: {errs[0]}")
            parts.extend(str(e) for e in errs if e.line is None)
            out.append((Path(file).name, "; ".join(parts)))
        for file, notes in self._notes.items():
            first = min(notes.values(), key=lambda e: e.line or 0)
            out.append((Path(file).name, f"{len(notes)} long text field(s) cut; first: {first}"))
        return out

    def gaps(self) -> list[Gap]:
        return [Gap(source=f"bundle:{name}", reason=text) for name, text in self.summaries()]


def line_ranges(lines: list[int], max_ranges: int = 8) -> str:
    """``[2, 3, 4, 9]`` -> ``"lines 2-4, 9"`` (at most ``max_ranges`` ranges, then "...")."""
    ranges: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], n)
        else:
            ranges.append((n, n))
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:max_ranges])
    more = ", ..." if len(ranges) > max_ranges else ""
    return f"line{'s' if len(lines) > 1 else ''} {text}{more}"


def cut_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a visible marker saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}[... cut {len(text) - limit} chars]"


def open_lines(path: Path, limits: BundleLimits = DEFAULT_LIMITS,
               problems: DataProblems | None = None) -> Iterator[bytes | Oversize]:
    """The file's lines without newlines, read in blocks, within ``limits``.

    A line longer than ``max_line_bytes`` comes out as :class:`Oversize` (its bytes are dropped
    as they are read). Reading stops after ``max_file_bytes``; a corrupt or truncated gzip stops
    the reading too, after the lines before it. Both are recorded in ``problems`` (if given),
    else raised as :class:`BundleError`.
    """
    read = 0
    lineno = 0

    def stop(problem: str) -> None:
        err = BundleError(str(path), problem, line=None)
        if problems is None:
            raise err
        problems.add(err)

    packed = path.suffix == ".gz"
    block_size = 1 << 18 if packed else 1 << 20  # a truncated gzip loses at most the block being read
    try:
        with gzip.open(path, "rb") if packed else open(path, "rb") as fh:
            partial: list[bytes] = []  # pieces of a line that spans blocks (no quadratic joins)
            partial_size = 0
            while block := fh.read(block_size):
                if read == 0 and block.startswith(BOM):
                    block = block[len(BOM):]
                read += len(block)
                if read > limits.max_file_bytes:
                    stop(f"stopped reading after {limits.max_file_bytes} bytes (limit max_file_bytes); "
                         f"the rest of the file was not read")
                    break
                if b"\n" not in block:
                    partial_size += len(block)
                    if partial_size <= limits.max_line_bytes:
                        partial.append(block)
                    else:
                        partial = []
                    continue
                lines = block.split(b"\n")
                last = lines.pop()
                first_size = partial_size + len(lines[0])
                for i, line in enumerate(lines):
                    lineno += 1
                    size = first_size if i == 0 else len(line)
                    if size > limits.max_line_bytes:
                        yield Oversize(size)
                    elif i == 0 and partial:
                        yield b"".join([*partial, line])
                    else:
                        yield line
                partial, partial_size = [last], len(last)
            if partial_size > limits.max_line_bytes:
                yield Oversize(partial_size)
            elif tail := b"".join(partial):
                yield tail
    except (OSError, EOFError, zlib.error) as exc:
        at = f" after line {lineno}" if lineno else ""
        stop(f"cannot read{at} (corrupt or truncated gzip?): {exc}; the lines before were kept")
