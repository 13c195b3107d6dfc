"""What every investigator is: something that turns an incident and its sources into a Report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from day2ai.models import Incident, Report
from day2ai.sources.base import Sources

EventListener = Callable[[str, dict[str, Any]], None]


@runtime_checkable
class Investigator(Protocol):
    """An investigator. ``name`` is recorded in the report (``offline``, ``llm:<model>``, ...)."""

    name: str

    async def investigate(
        self,
        incident: Incident,
        sources: Sources,
        *,
        knowledge: Any = None,
        listeners: list[EventListener] | None = None,
    ) -> Report: ...
