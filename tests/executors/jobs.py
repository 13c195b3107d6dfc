"""Module-level jobs for the executor tests (child processes and Ray workers import them)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any


def square(item: dict[str, Any]) -> int:
    """Square ``item["n"]``; ``fail`` raises, ``die`` kills the worker, ``sleep`` waits first."""
    time.sleep(float(item.get("sleep", 0.0)))
    if item.get("fail"):
        raise ValueError(f"bad item {item['n']}")
    if item.get("die"):
        os.kill(os.getpid(), signal.SIGKILL)
    return int(item["n"]) ** 2


def pid(_: Any) -> int:
    return os.getpid()
