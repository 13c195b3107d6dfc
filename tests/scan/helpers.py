"""Small builders for scan tests: series, sites and in-memory histories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from day2ai.sources.history import OpsHistory, Series, Site

DAY = 86400.0
START = 1767225600.0  # 2026-01-01T00:00:00Z (a Thursday)


def site(days: int = 42, services: list[dict[str, Any]] | None = None, **extra: Any) -> Site:
    return Site.model_validate({"name": "test", "period": {"start": START, "end": START + days * DAY},
                                "services": services or [{"name": "api"}], **extra})


def history(s: Site | None = None, **fields: Any) -> OpsHistory:
    h = OpsHistory(path=Path("."), site=s or site())
    for key, value in fields.items():
        setattr(h, key, value)
    h.present |= {k for k in ("metrics", "incidents", "alerts", "changes") if k in fields}
    return h


def times(days: int = 42, step: float = 3600.0) -> np.ndarray:
    return START + np.arange(0, days * DAY, step)


def series(name: str, t: np.ndarray, v: np.ndarray, service: str = "api", **labels: str) -> Series:
    return Series(name, service, {"service": service, **labels}, t, np.asarray(v, dtype=float))


def daily_cycle(t: np.ndarray, amplitude: float = 0.3) -> np.ndarray:
    return 1.0 + amplitude * np.sin((t % DAY) / DAY * 2 * np.pi)


def weekly_cycle(t: np.ndarray, weekend: float = 0.6) -> np.ndarray:
    dow = np.floor(t / DAY + 3) % 7
    return np.where(dow >= 5, weekend, 1.0)
