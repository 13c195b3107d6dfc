"""``day2ai logs ...``: log-template mining from the command line.

``day2ai logs parse FILE --format jsonl`` prints one JSON object per input line, in input order
(``{"line": 1, "template": "...", "template_id": "T12"}``), as the CLI contract specifies. The
file is read as UTF-8; undecodable bytes are replaced by U+FFFD (so a stray binary byte never
stops a run) and lines end at ``\\n`` (a trailing ``\\r`` is dropped). Templates and ids are the
final ones after the whole file was mined, so equal templates always carry equal ids.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from day2ai.analysis.logmining import TemplateMiner
from day2ai.errors import InputError


class OutputFormat(StrEnum):
    """Output formats of ``logs parse``."""

    text = "text"
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


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file of log lines")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_file(path: Path, state: Path | None = None) -> tuple[TemplateMiner, list[str]]:
    """Mine every line of ``path``; return the miner and each line's final template id."""
    miner = _load_miner(state)
    ids = miner.add_many(_read_lines(path))
    return miner, [miner.resolve(tid) for tid in ids]


def parse(
    file: Annotated[Path, typer.Argument(help="File of raw log messages, one per line.")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="jsonl: one object per line; text: templates.")
    ] = (OutputFormat.text),
    state: Annotated[
        Path | None, typer.Option("--state", help="JSON miner state: loaded if it exists, saved after.")
    ] = None,
) -> None:
    """Mine log templates from FILE."""
    try:
        miner, ids = parse_file(file, state)
    except InputError as exc:
        raise _fail(str(exc)) from None
    out = sys.stdout
    if fmt is OutputFormat.jsonl:
        texts: dict[str, str] = {}
        for number, tid in enumerate(ids, start=1):
            text = texts.get(tid)
            if text is None:
                text = texts[tid] = miner.template(tid) or ""
            out.write(json.dumps({"line": number, "template": text, "template_id": tid}) + "\n")
    else:
        infos = miner.templates()
        out.write(f"{len(ids)} lines, {len(infos)} templates\n")
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
