from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from day2ai.errors import BundleError
from day2ai.sources import history_parallel
from day2ai.sources.history import HISTORY_LIMITS

ROWS = [{"metric": {"__name__": "m", "service": f"s{i}"}, "values": [[j, str(i * j)] for j in range(1, 50)]}
        for i in range(40)]


def _file(tmp_path: Path, rows: list[object]) -> Path:
    p = tmp_path / "metrics.jsonl"
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return p


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(history_parallel, "BATCH_BYTES", 2000)


def test_parallel_read_equals_sequential_and_keeps_order(tmp_path: Path) -> None:
    p = _file(tmp_path, ROWS)
    seq = history_parallel.read_metrics(p, HISTORY_LIMITS, workers=1)
    par = history_parallel.read_metrics(p, HISTORY_LIMITS, workers=2)
    assert [s.service for s in par] == [f"s{i}" for i in range(40)]
    assert all((a.t == b.t).all() and (a.v == b.v).all() for a, b in zip(seq, par, strict=True))


def test_parallel_read_names_the_bad_line(tmp_path: Path) -> None:
    rows: list[object] = list(ROWS)
    rows[30] = {"metric": {"__name__": "m", "service": "x"}, "values": [[1, "x"]]}
    p = _file(tmp_path, rows)
    with pytest.raises(BundleError) as err:
        history_parallel.read_metrics(p, HISTORY_LIMITS, workers=2)
    assert (err.value.line, err.value.field) == (31, "values[0][1]")
