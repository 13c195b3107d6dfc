"""The top-level entry points: investigate a bundle (or any Sources) with one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from day2ai._sync import run_sync
from day2ai.agent.base import EventListener, Investigator
from day2ai.models import Incident, Report
from day2ai.sources.base import Sources
from day2ai.sources.bundle import Bundle, load_bundle


def default_investigator(model: str | None = None, base_url: str | None = None) -> Investigator:
    """The offline investigator, or the LLM agent when a model name is given."""
    if model:
        from day2ai.agent.llm import build_investigator

        return build_investigator(model, base_url)
    from day2ai.agent.offline import OfflineInvestigator

    return OfflineInvestigator()


async def ainvestigate(
    target: str | Path | Bundle | tuple[Incident, Sources],
    *,
    investigator: Investigator | None = None,
    model: str | None = None,
    base_url: str | None = None,
    knowledge: Any = None,
    listeners: list[EventListener] | None = None,
) -> Report:
    """Investigate an incident bundle (path or loaded) or an ``(incident, sources)`` pair.

    Uses the offline investigator unless ``investigator`` or ``model`` is given.
    """
    if isinstance(target, tuple):
        incident, sources = target
    else:
        bundle = target if isinstance(target, Bundle) else load_bundle(target)
        incident, sources = bundle.incident, bundle.sources
    inv = investigator or default_investigator(model, base_url)
    return await inv.investigate(incident, sources, knowledge=knowledge, listeners=listeners)


def investigate(
    target: str | Path | Bundle | tuple[Incident, Sources],
    *,
    investigator: Investigator | None = None,
    model: str | None = None,
    base_url: str | None = None,
    knowledge: Any = None,
    listeners: list[EventListener] | None = None,
) -> Report:
    """Sync wrapper of :func:`ainvestigate` (works inside Jupyter's running loop too)."""
    return run_sync(ainvestigate(target, investigator=investigator, model=model, base_url=base_url,
                                 knowledge=knowledge, listeners=listeners))
