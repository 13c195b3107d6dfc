"""Write one bundle directory exactly as the incident-bundle spec lays it out."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import yaml


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open(path: Path, gz: bool) -> IO[str]:
    if gz:
        # mtime=0: the same seed gives the same bytes, not only the same content
        raw = gzip.GzipFile(path.with_name(path.name + ".gz"), "wb", compresslevel=5, mtime=0)
        return io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
    return path.open("w", encoding="utf-8", newline="\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str], gz: bool) -> int:
    """Write rows (dicts, or lines already serialised) one per line; returns the count."""
    n = 0
    with _open(path, gz) as fh:
        for row in rows:
            fh.write(
                row if isinstance(row, str) else json.dumps(row, ensure_ascii=False, separators=(", ", ": "))
            )
            fh.write("\n")
            n += 1
    return n


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=False, allow_unicode=True, width=120)


def fresh_dir(path: Path) -> Path:
    """An empty directory at ``path`` (a previous bundle there is replaced)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
