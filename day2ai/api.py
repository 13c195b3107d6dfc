"""The top-level entry points: investigate a bundle (or any Sources) with one call, or stream it.

``ainvestigate``/``astream`` never hold the event loop for a bundle investigation: the offline
investigator runs in a child process whose events stream back live, and cancelling the awaiting
task (or an ``asyncio`` timeout) stops that process at once (see :mod:`day2ai.runner`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from day2ai._sync import run_sync
from day2ai.agent.base import EventListener, Investigator
from day2ai.agent.events import Event
from day2ai.models import Incident, Report
from day2ai.sources.base import Sources
from day2ai.sources.bundle import Bundle

Target = str | Path | Bundle | tuple[Incident, Sources]


def default_investigator(model: str | None = None, base_url: str | None = None) -> Investigator:
    """The offline investigator, or the LLM agent when a model name is given."""
    if model:
        from day2ai.agent.llm import build_investigator

        return build_investigator(model, base_url)
    from day2ai.agent.offline import OfflineInvestigator

    return OfflineInvestigator()


async def astream(
    target: Target,
    *,
    investigator: Investigator | None = None,
    model: str | None = None,
    base_url: str | None = None,
    knowledge: Any = None,
    listeners: list[EventListener] | None = None,
    offload: bool = True,
) -> AsyncGenerator[Event, None]:
    """Investigate and yield :class:`~day2ai.agent.events.Event` objects as the work proceeds:
    ``step_started``/``step_finished``, ``tool_called``, ``evidence_added``, ``hypotheses``, and
    last exactly one ``done`` (``data["report"]``) or ``failed`` (``data["error"]``).

    Same arguments as :func:`ainvestigate`. Leaving the ``async for`` early stops the investigation.
    """
    from day2ai import runner

    inv = investigator or default_investigator(model, base_url)
    events = runner.stream(target, inv, knowledge=knowledge, listeners=listeners, offload=offload)
    async with aclosing(events):  # leaving early stops the work now, not at garbage collection
        async for event in events:
            yield event


async def ainvestigate(
    target: Target,
    *,
    investigator: Investigator | None = None,
    model: str | None = None,
    base_url: str | None = None,
    knowledge: Any = None,
    listeners: list[EventListener] | None = None,
    offload: bool = True,
) -> Report:
    """Investigate an incident bundle (path or loaded) or an ``(incident, sources)`` pair.

    Uses the offline investigator unless ``investigator`` or ``model`` is given. ``knowledge``: a
    :class:`~day2ai.KnowledgeBase` or its index path. ``listeners`` are called with ``(type, data)``
    as events happen (a listener that raises is logged, never stops the run). A bundle investigation
    by a CPU-bound investigator runs in a child process (``offload=False`` keeps it in this one).
    """
    from day2ai import runner

    inv = investigator or default_investigator(model, base_url)
    outcome = runner._Outcome()
    events = runner.stream(target, inv, knowledge=knowledge, listeners=listeners, offload=offload, outcome=outcome)
    async with aclosing(events):
        async for _ in events:
            pass
    if not isinstance(outcome.report, Report):
        raise outcome.error or RuntimeError("the investigation ended without a report")
    return outcome.report


def investigate(
    target: Target,
    *,
    investigator: Investigator | None = None,
    model: str | None = None,
    base_url: str | None = None,
    knowledge: Any = None,
    listeners: list[EventListener] | None = None,
    offload: bool = False,
) -> Report:
    """Sync wrapper of :func:`ainvestigate` (works inside Jupyter's running loop too).

    There is no caller's loop to keep free, so the work stays in this process unless ``offload``."""
    return run_sync(ainvestigate(target, investigator=investigator, model=model, base_url=base_url,
                                 knowledge=knowledge, listeners=listeners, offload=offload))
