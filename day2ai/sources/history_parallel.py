"""Parse a big ``metrics.jsonl`` of an ops history on every core.

JSON decoding and the conversion to arrays are CPU-bound and per line, so lines are read here (with
the bundle reader's limits) and parsed in batches by worker processes, in order. The processes are
forked, so only from the main thread (forking while other threads hold locks can deadlock); anywhere
else, and for small files, the reading is sequential. A bad line raises the same
:class:`~day2ai.errors.BundleError` (file, line, field) as the sequential reader.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from day2ai.errors import BundleError
from day2ai.sources.bundle import _decode, _FieldError, _iter_jsonl
from day2ai.sources.bundle_read import BundleLimits, Oversize, open_lines
from day2ai.sources.history import Series, parse_metric

PARALLEL_MIN_BYTES = 16 << 20  # below this, starting processes costs more than it saves
BATCH_BYTES = 4 << 20

Problem = tuple[int, str | None, str]  # line, field, problem


def _parse_batch(batch: list[tuple[int, bytes]]) -> list[Series] | Problem:
    out: list[Series] = []
    for lineno, raw in batch:
        if not raw.strip():
            continue
        try:
            out.append(parse_metric(_decode(raw)))
        except _FieldError as exc:
            return lineno, exc.field, exc.problem
    return out


def _batches(path: Path, limits: BundleLimits) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    size = 0
    for lineno, raw in enumerate(open_lines(path, limits), start=1):
        if isinstance(raw, Oversize):
            raise BundleError(str(path), f"line of {raw.size} bytes exceeds the limit of {limits.max_line_bytes} "
                              "bytes (max_line_bytes)", line=lineno)
        batch.append((lineno, raw))
        size += len(raw)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def read_metrics(path: Path, limits: BundleLimits, workers: int | None = None) -> list[Series]:
    """Every series of ``path``, in file order."""
    n = min(workers or os.cpu_count() or 1, 4)
    if (n < 2 or path.stat().st_size < PARALLEL_MIN_BYTES or path.suffix == ".gz"
            or threading.current_thread() is not threading.main_thread()):
        return list(_iter_jsonl(path, parse_metric, limits))
    out: list[Series] = []
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[Future[list[Series] | Problem]] = deque()
        for batch in _batches(path, limits):
            pending.append(pool.submit(_parse_batch, batch))
            if len(pending) > 2 * n:  # bounded: at most a few batches of lines in flight
                _collect(pending.popleft().result(), out, path)
        while pending:
            _collect(pending.popleft().result(), out, path)
    return out


def _collect(result: list[Series] | Problem, out: list[Series], path: Path) -> None:
    if isinstance(result, tuple):
        lineno, field, problem = result
        raise BundleError(str(path), problem, line=lineno, field=field)
    out.extend(result)
