"""Day-2 scans: proactive findings and the operational health scorecard over an ops history.

``day2ai.scan(history_dir)`` and ``await day2ai.ascan(history_dir)`` return a
:class:`~day2ai.scan.models.ScanReport`. Findings are suggestions: anything that would change a
system (resize, delete, reconcile) carries a :class:`~day2ai.models.Remediation` that only
:func:`day2ai.approval.apply_remediation` may carry out, after an approval. Nothing here executes one.

This package is importable as ``day2ai.scan`` *and* callable as ``day2ai.scan(...)``: the module's
class gets a ``__call__`` that forwards to :func:`scan`, so the public name works whichever was
imported first (the package or the function).
"""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from day2ai.scan.models import ScanReport
    from day2ai.sources.history import OpsHistory

HORIZON_DAYS = 14.0


def scan(history: str | Path | OpsHistory, *, horizon_days: float = HORIZON_DAYS) -> ScanReport:
    """Scan an ops history (a directory, or an already loaded :class:`OpsHistory`)."""
    from day2ai.scan.engine import analyse, scan_path
    from day2ai.sources.history import OpsHistory

    if isinstance(history, OpsHistory):
        return analyse(history, horizon_days)
    return scan_path(history, horizon_days)


async def ascan(history: str | Path | OpsHistory, *, horizon_days: float = HORIZON_DAYS) -> ScanReport:
    """Async :func:`scan`: the CPU work runs in a worker thread, off the event loop."""
    return await asyncio.to_thread(scan, history, horizon_days=horizon_days)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["ascan", "scan"]
