"""Small helpers shared by the finding families (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from day2ai.sources.history import Series

HOURS_PER_MONTH = 730.0  # OpenCost's month (365 * 24 / 12)
GIB = float(1 << 30)
# labels that name an instance of a workload, not a distinct resource
INSTANCE_LABELS = frozenset({"pod", "instance", "container", "node", "job", "service"})


def by_name(series: Iterable[Series], names: Iterable[str]) -> dict[str, list[Series]]:
    wanted = set(names)
    out: dict[str, list[Series]] = defaultdict(list)
    for s in series:
        if s.name in wanted:
            out[s.name].append(s)
    return out


def resource_key(s: Series) -> tuple[tuple[str, str], ...]:
    """The labels that distinguish resources of one service (``volume``, ``peer``, ``quota``...)."""
    return tuple(sorted((k, v) for k, v in s.labels.items() if k not in INSTANCE_LABELS))


def label_text(key: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{k}={v}" for k, v in key)


def fmt_bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"
