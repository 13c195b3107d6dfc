"""Investigators for the async tests; module-level so that child processes can import them."""

from __future__ import annotations

import os
import time
from typing import Any

from day2ai.agent.base import EventListener
from day2ai.models import Incident, Report
from day2ai.sources.base import Sources


class SpinInvestigator:
    """Computes (never awaits) for ``seconds``, announcing its pid first: a stand-in for heavy analysis."""

    name = "spin"
    cpu_bound = True

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: list[EventListener] | None = None) -> Report:
        for listener in listeners or []:
            listener("step_started", {"step": 1, "kind": "spin", "pid": os.getpid()})
        end = time.perf_counter() + self.seconds
        while time.perf_counter() < end:
            sum(i * i for i in range(1000))
        return Report(incident=incident, investigator=self.name)
