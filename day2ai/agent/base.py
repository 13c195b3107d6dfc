"""What every investigator is: something that turns an incident and its sources into a Report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from day2ai.models import Incident, Report
from day2ai.sources.base import Sources

EventListener = Callable[[str, dict[str, Any]], None]


@runtime_checkable
class Investigator(Protocol):
    """An investigator. ``name`` is recorded in the report (``offline``, ``llm:<model>``, ...).

    Optional: ``cpu_bound = True`` declares that it computes rather than waits, so that
    :func:`day2ai.ainvestigate` runs it in a child process for a bundle on disk (it must then be
    picklable); the offline investigator is treated so without declaring it. ``listeners`` are
    called with ``(type, data)``: see :mod:`day2ai.agent.events` for the event types.
    """

    name: str

    async def investigate(
        self,
        incident: Incident,
        sources: Sources,
        *,
        knowledge: Any = None,
        listeners: list[EventListener] | None = None,
    ) -> Report: ...
