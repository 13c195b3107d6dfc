"""``day2ai logs ...``: log-template mining from the command line.

``day2ai logs parse FILE --format jsonl`` prints one JSON object per input record, in input order
(``{"line": 1, "template": "...", "template_id": "T12"}``), as the CLI contract specifies.

Input is taken as it comes:

- gzip (and bzip2, xz) compressed files are recognised by their magic bytes (whatever their
  name); a corrupt or truncated stream is an error naming the file (exit 2), never junk
  templates; zstd and zip archives are refused with a clear error;
- JSON Lines log records (one object per line with a string ``message`` field) are recognised
  from the first non-empty line (``--input auto``, the default) or forced with ``--input jsonl``;
  the miner sees the first line of each message (its headline: stack traces follow it);
- anything else is plain text, one message per line, read as UTF-8 (undecodable bytes become
  U+FFFD) with ``\\n`` line ends (a trailing ``\\r`` is dropped).

Lines are bounded: the miner sees at most :data:`MAX_MESSAGE_CHARS` characters of a message, and
at most :data:`MAX_RECORD_BYTES` bytes of a line are ever held in memory (the rest of a longer
line is skipped while reading). Cut lines carry ``"truncated": true`` in the jsonl output.
Templates and ids are the final ones after the whole stream was mined, so equal templates always
carry equal ids; ids depend only on the input, so they are the same on every run.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import sys
import zlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, cast

import typer

from day2ai.analysis.logmining import TemplateMiner
from day2ai.errors import InputError

#: Longest message the miner sees (characters). Measured: the longest Loghub-2k message has 143
#: characters; Nezha Java headlines have a median of 200, a 99th percentile of 16 215 and a maximum
#: of 16 384, the cap of the services' own logger. Keeping that cap means real lines are not cut.
MAX_MESSAGE_CHARS = 16_384
#: Longest line ever held in memory (bytes): big enough for a JSON record whose message carries a
#: long stack trace, small enough that a 200 MB single line costs only this much memory.
MAX_RECORD_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_UNSUPPORTED = (("zstd", b"\x28\xb5\x2f\xfd"), ("zip", b"PK\x03\x04"))
_BATCH = 10_000
_LIMITS = (
    f"Messages longer than {MAX_MESSAGE_CHARS} characters are cut (and marked); lines longer than "
    f"{MAX_RECORD_BYTES // (1 << 20)} MiB are read only up to that size."
)


class OutputFormat(StrEnum):
    """Output formats of ``logs parse``."""

    text = "text"
    jsonl = "jsonl"


class InputFormat(StrEnum):
    """How ``logs parse`` reads its input."""

    auto = "auto"
    lines = "lines"
    jsonl = "jsonl"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _load_miner(state: Path | None) -> TemplateMiner:
    if state is None or not state.exists():
        return TemplateMiner()
    try:
        return TemplateMiner.from_json(state.read_bytes())
    except OSError as exc:
        raise InputError(f"{state}: cannot read miner state: {exc.strerror}") from exc
    except InputError as exc:
        raise InputError(f"{state}: {exc}") from exc


def _open(path: Path) -> IO[bytes]:
    """``path`` opened for reading bytes, decompressed when it starts with the gzip magic bytes."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file of log lines")
    try:
        handle: IO[bytes] = path.open("rb")
        magic = handle.read(6)
        handle.seek(0)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if magic.startswith(_GZIP_MAGIC):
        return cast(IO[bytes], gzip.GzipFile(fileobj=handle, mode="rb"))
    if magic.startswith(_BZIP2_MAGIC):
        return cast(IO[bytes], bz2.BZ2File(handle, mode="rb"))
    if magic.startswith(_XZ_MAGIC):
        return cast(IO[bytes], lzma.LZMAFile(handle, mode="rb"))
    for name, prefix in _UNSUPPORTED:
        if magic.startswith(prefix):
            handle.close()
            raise InputError(f"{path}: {name}-compressed data is not supported: decompress it first")
    return handle


def _raw_lines(handle: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """(line without its end, True if it was cut at :data:`MAX_RECORD_BYTES`), in bounded memory."""
    readline = handle.readline
    while True:
        line = readline(MAX_RECORD_BYTES)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1], False
            continue
        if len(line) < MAX_RECORD_BYTES:  # last line, without a final newline
            yield line, False
            return
        rest = line
        while rest and not rest.endswith(b"\n"):  # skip the remainder of the line
            rest = readline(MAX_RECORD_BYTES)
        yield line, True


def _message_of(text: str, strict: bool, where: str) -> str | None:
    """The headline of a JSON record's ``message``, or None when ``text`` is not such a record.

    With ``strict`` (``--input jsonl``) a line that is not one is an error naming ``where``.
    """
    problem = ""
    record: object = None
    if not text.startswith("{"):
        problem = "not a JSON object"
    else:
        try:
            record = json.loads(text)
        except ValueError as exc:
            problem = f"invalid JSON: {exc}"
    message = record.get("message") if isinstance(record, dict) else None
    if isinstance(message, str):
        return message.split("\n", 1)[0]
    if strict and text.strip():
        raise InputError(f"{where}: {problem or 'record has no string message field'} (--input jsonl)")
    return None


class LogStream:
    """The messages of one log file, as the miner should see them (see module doc).

    Iterating yields one message per record; :attr:`truncated` then holds the 1-based numbers of
    the records that were cut. Read errors (including corrupt gzip data) raise :class:`InputError`.
    """

    def __init__(self, path: Path, fmt: InputFormat = InputFormat.auto) -> None:
        self.path = path
        self.format = fmt
        self.truncated: list[int] = []

    def __iter__(self) -> Iterator[str]:
        handle = _open(self.path)
        try:
            yield from self._messages(handle)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise InputError(f"{self.path}: cannot read (corrupt or truncated data?): {exc}") from exc
        finally:
            handle.close()

    def _messages(self, handle: IO[bytes]) -> Iterator[str]:
        strict = self.format is InputFormat.jsonl
        records = strict  # lines are JSON records
        decided = self.format is not InputFormat.auto
        for number, (raw, cut) in enumerate(_raw_lines(handle), start=1):
            text = raw.decode("utf-8", errors="replace")
            if number == 1 and text.startswith("\ufeff"):  # a byte-order mark is not content
                text = text[1:]
            if text.endswith("\r"):
                text = text[:-1]
            if not decided and text.strip():  # the first non-empty line decides
                decided = True
                records = _message_of(text, False, "") is not None
                self.format = InputFormat.jsonl if records else InputFormat.lines
            message = _message_of(text, strict, f"{self.path}:{number}") if records and not cut else None
            if message is None:  # plain text (or, with auto, a stray non-record line)
                message = text
            if cut or len(message) > MAX_MESSAGE_CHARS:
                message = message[:MAX_MESSAGE_CHARS]
                self.truncated.append(number)
            yield message


def parse_file(
    path: Path, state: Path | None = None, fmt: InputFormat = InputFormat.auto
) -> tuple[TemplateMiner, list[str], list[int]]:
    """Mine every record of ``path``: (miner, each record's final template id, cut record numbers)."""
    miner = _load_miner(state)
    stream = LogStream(path, fmt)
    ids: list[str] = []
    batch: list[str] = []
    for message in stream:
        batch.append(message)
        if len(batch) >= _BATCH:
            ids.extend(miner.add_many(batch))
            batch.clear()
    ids.extend(miner.add_many(batch))
    return miner, [miner.resolve(tid) for tid in ids], stream.truncated


def parse(
    file: Annotated[
        Path, typer.Argument(help=f"Log file: lines or JSON Lines records, maybe gzip/bzip2/xz-compressed. {_LIMITS}")
    ],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="jsonl: one object per record; text: templates.")] = (
        OutputFormat.text
    ),
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--input",
            help="auto: JSON records (with a 'message' field) if the first line is one, else lines.",
        ),
    ] = (InputFormat.auto),
    state: Annotated[
        Path | None, typer.Option("--state", help="JSON miner state: loaded if it exists, saved after.")
    ] = None,
) -> None:
    """Mine log templates from FILE (compression detected by content)."""
    try:
        miner, ids, truncated = parse_file(file, state, input_format)
    except InputError as exc:
        raise _fail(str(exc)) from None
    out = sys.stdout
    if fmt is OutputFormat.jsonl:
        texts: dict[str, str] = {}
        cut = set(truncated)
        for number, tid in enumerate(ids, start=1):
            text = texts.get(tid)
            if text is None:
                text = texts[tid] = miner.template(tid) or ""
            row: dict[str, object] = {"line": number, "template": text, "template_id": tid}
            if number in cut:
                row["truncated"] = True
            out.write(json.dumps(row) + "\n")
    else:
        infos = miner.templates()
        extra = f", {len(truncated)} truncated" if truncated else ""
        out.write(f"{len(ids)} lines, {len(infos)} templates{extra}\n")
        for info in infos:
            out.write(f"{info.count:>8}  {info.template_id:<6}  {info.template}\n")
    if state is not None:
        try:
            state.write_text(miner.to_json(), encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{state}: cannot write miner state: {exc.strerror}") from None


def register(app: typer.Typer) -> None:
    """Add the ``logs`` command group to the day2ai CLI."""
    logs = typer.Typer(help="Log-template mining.", no_args_is_help=True)
    logs.command("parse")(parse)
    app.add_typer(logs, name="logs")
