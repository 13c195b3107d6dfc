"""RunManager: concurrency bound, de-duplication, cleanup, end hook, event replay, failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from day2ai.agent.base import EventListener
from day2ai.models import Incident, Report, TimeRange
from day2ai.service.runs import Run, RunManager
from day2ai.sources.base import Sources

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def _incident(name: str) -> Incident:
    return Incident(id=name, title=name, detected_at=NOW, window=TimeRange(start=NOW, end=NOW))


class GatedInvestigator:
    """Emits a tool event, then waits for its gate; raises when the incident id says so."""

    name = "gated"

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.started: list[str] = []

    def gate(self, incident_id: str) -> asyncio.Event:
        return self.gates.setdefault(incident_id, asyncio.Event())

    async def investigate(self, incident: Incident, sources: Sources, *, knowledge: Any = None,
                          listeners: list[EventListener] | None = None) -> Report:
        self.started.append(incident.id)
        for listener in listeners or []:
            listener("tool_called", {"name": "probe", "arguments": {"id": incident.id}})
        await self.gate(incident.id).wait()
        if incident.id.startswith("boom"):
            raise RuntimeError(f"{incident.id} exploded")
        return Report(incident=incident, investigator=self.name)


async def _until(predicate: Any, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_runs_respect_the_concurrency_bound_and_end_with_done() -> None:
    inv = GatedInvestigator()
    ended: list[str] = []

    async def on_end(run: Run) -> None:
        ended.append(run.id)
        raise RuntimeError("the chat API answered 429")  # must not disturb anything

    manager = RunManager(on_end=on_end, concurrency=1, options={"investigator": inv})
    first = manager.start((_incident("a"), Sources()), label="a")
    second = manager.start((_incident("b"), Sources()), label="b")
    await _until(lambda: inv.started == ["a"])
    await asyncio.sleep(0.1)
    assert inv.started == ["a"] and second.status == "running" and not second.events
    inv.gate("a").set()
    await _until(lambda: inv.started == ["a", "b"])
    inv.gate("b").set()
    await manager.wait(first)
    await manager.wait(second)
    assert first.status == second.status == "done" and sorted(ended) == sorted([first.id, second.id])
    assert first.report is not None and first.report.incident.id == "a"
    assert first.summary()["report"]["incident_id"] == "a"
    types = [e["type"] for e in first.events]
    assert types[-1] == "done" and "tool_called" in types
    replay = [e async for e in manager.events(first)]  # a late subscriber sees everything
    assert replay == first.events
    await manager.aclose()


async def test_same_key_is_one_run_and_cleanup_always_runs() -> None:
    inv = GatedInvestigator()
    cleaned: list[str] = []

    async def cleanup() -> None:
        cleaned.append("x")

    manager = RunManager(options={"investigator": inv})
    one = manager.start((_incident("boom-1"), Sources()), label="x", key="k", cleanup=cleanup)
    again = manager.start((_incident("boom-1"), Sources()), label="x", key="k", cleanup=cleanup)
    assert again is one and manager.by_key("k") is one and len(manager.list()) == 1
    live = asyncio.create_task(_collect(manager, one))
    await _until(lambda: bool(one.events))
    inv.gate("boom-1").set()
    await manager.wait(one)
    events = await live
    assert one.status == "failed" and "exploded" in (one.error or "") and one.report is None
    assert [e["type"] for e in events][-1] == "failed" and cleaned == ["x"]
    await manager.aclose()


async def test_closing_cancels_running_investigations() -> None:
    inv = GatedInvestigator()
    manager = RunManager(options={"investigator": inv})
    run = manager.start((_incident("slow"), Sources()), label="slow")
    await _until(lambda: inv.started == ["slow"])
    await manager.aclose()
    assert run.status == "failed" and run.error == "cancelled" and run.events[-1]["type"] == "failed"


async def _collect(manager: RunManager, run: Run) -> list[dict[str, Any]]:
    return [e async for e in manager.events(run)]


def test_event_data_is_strict_json() -> None:
    import json

    from day2ai.models import Evidence, EvidenceSource
    from day2ai.service.runs import jsonable

    ev = Evidence(id="e1", source=EvidenceSource.METRICS, query="q", summary="s",
                  data={"z": float("nan"), "peak": float("inf"), "ok": [1.5, (2, "x")]})
    out = jsonable({"evidence": ev, "report": Report(incident=_incident("r"), investigator="x")})
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["evidence"]["data"] == {"z": None, "peak": None, "ok": [1.5, [2, "x"]]}
    assert out["report"]["incident_id"] == "r"
