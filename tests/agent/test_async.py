"""ainvestigate/astream: the loop stays free, cancellation stops the worker, events arrive live."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import day2ai
from day2ai.agent.events import Event
from day2ai.errors import BundleError
from tests.agent.async_support import SpinInvestigator
from tests.agent.offline_synth import make_world, write_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = make_world("cpu_saturation", "payments", seed=2)
    return write_bundle(world, tmp_path_factory.mktemp("async") / "b")


def _gone(pid: int, within: float = 10.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


async def test_astream_ends_with_one_done_and_matches_in_process(bundle: Path) -> None:
    events = [e async for e in day2ai.astream(bundle)]
    types = [e.type for e in events]
    assert all(isinstance(e, Event) and isinstance(e.at, float) for e in events)
    assert types[-1] == "done" and types.count("done") == 1 and "failed" not in types
    for kind in ("step_started", "step_finished", "tool_called", "evidence_added", "hypotheses"):
        assert kind in types, kind
    assert types.count("step_started") == types.count("step_finished")
    streamed = events[-1].data["report"]
    local = await day2ai.ainvestigate(bundle, offload=False)
    assert [(h.service, h.fault) for h in streamed.hypotheses] == [(h.service, h.fault) for h in local.hypotheses]
    assert streamed.hypotheses, "the synthetic fault should be found"


async def test_stream_fails_once_for_a_broken_bundle_and_ainvestigate_raises_the_error(tmp_path: Path) -> None:
    events = [e async for e in day2ai.astream(tmp_path / "missing")]
    assert [e.type for e in events] == ["failed"]
    assert "missing" in events[0].data["error"]
    with pytest.raises(BundleError):
        await day2ai.ainvestigate(tmp_path / "missing")


async def test_loop_keeps_ticking_while_an_investigation_computes(bundle: Path) -> None:
    gaps: list[float] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    report = await day2ai.ainvestigate(bundle, investigator=SpinInvestigator(1.5))
    stop.set()
    await beat
    assert report.investigator == "spin"
    assert len(gaps) > 20  # the loop ran throughout, not only before and after
    assert max(gaps) < 1.0  # generous: the 1.5 s of computing never held the loop


async def test_cancel_and_timeout_stop_the_worker_process(bundle: Path) -> None:
    started: asyncio.Queue[int] = asyncio.Queue()

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if "pid" in data:
            started.put_nowait(int(data["pid"]))

    task = asyncio.create_task(day2ai.ainvestigate(bundle, investigator=SpinInvestigator(60), listeners=[on_event]))
    pid = await asyncio.wait_for(started.get(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _gone(pid), "the cancelled investigation's process is still running"

    run = day2ai.ainvestigate(bundle, investigator=SpinInvestigator(60), listeners=[on_event])
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run, 3.0)
    assert _gone(await started.get())


async def test_a_raising_listener_never_stops_the_run(bundle: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken(kind: str, data: dict[str, Any]) -> None:
        seen.append(kind)
        raise RuntimeError("chat API answered 429")

    report = await day2ai.ainvestigate(bundle, listeners=[broken])
    assert report.hypotheses
    assert "evidence_added" in seen and "hypotheses" in seen
    assert "chat API answered 429" in caplog.text


async def test_leaving_the_stream_early_stops_the_worker(bundle: Path) -> None:
    stream = day2ai.astream(bundle, investigator=SpinInvestigator(60))
    first = await stream.__anext__()
    assert first.type == "step_started"
    await stream.aclose()
    assert _gone(int(first.data["pid"]))


class _ThreadSpy:
    """Wraps a source, recording the thread each call is made on."""

    def __init__(self, inner: Any, seen: set[int]) -> None:
        self.inner, self.seen = inner, seen

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)

            async def run() -> Any:
                self.seen.add(threading.get_ident())
                return await result

            async def iterate() -> Any:
                async for item in result:
                    self.seen.add(threading.get_ident())
                    yield item

            return iterate() if hasattr(result, "__anext__") else run()

        return call


async def test_live_sources_compute_in_a_thread_and_do_io_on_the_callers_loop() -> None:
    import dataclasses

    from tests.agent.offline_synth import sources

    world = make_world("cpu_saturation", "payments", seed=2)
    seen: set[int] = set()
    live = sources(world)
    spied = dataclasses.replace(live, metrics=_ThreadSpy(live.metrics, seen), logs=_ThreadSpy(live.logs, seen))
    workers: set[int] = set()

    def on_event(kind: str, data: dict[str, Any]) -> None:
        workers.add(threading.get_ident())  # listeners are called on the caller's thread

    events = [e async for e in day2ai.astream((world.incident, spied), listeners=[on_event])]
    assert events[-1].type == "done" and events[-1].data["report"].hypotheses
    assert "step_finished" in [e.type for e in events]
    assert seen == {threading.get_ident()} and workers == {threading.get_ident()}
    in_loop = await day2ai.ainvestigate((world.incident, sources(world)), offload=False)
    assert [h.service for h in events[-1].data["report"].hypotheses] == [h.service for h in in_loop.hypotheses]


class StepInvestigator:
    """Computes in short steps with a cancellation point between them; counts the steps done."""

    name = "steps"
    cpu_bound = True
    steps = 0

    async def investigate(self, incident: Any, sources: Any, *, knowledge: Any = None,
                          listeners: Any = None) -> Any:
        for _ in range(10_000):
            await asyncio.sleep(0)
            end = time.perf_counter() + 0.01
            while time.perf_counter() < end:
                pass
            type(self).steps += 1
        raise AssertionError("should have been cancelled")


async def test_a_threaded_investigation_stops_at_its_next_step_when_cancelled() -> None:
    from tests.agent.offline_synth import sources

    world = make_world("cpu_saturation", "payments", seed=2)
    task = asyncio.create_task(day2ai.ainvestigate((world.incident, sources(world)), investigator=StepInvestigator()))
    await asyncio.sleep(0.5)
    assert StepInvestigator.steps > 0  # it runs while this loop keeps going
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)
    stopped_at = StepInvestigator.steps
    await asyncio.sleep(0.5)
    assert StepInvestigator.steps == stopped_at


def test_sync_investigate_still_works(bundle: Path) -> None:
    assert day2ai.investigate(bundle).hypotheses


async def test_llm_investigator_runs_its_offline_triage_in_a_child(bundle: Path) -> None:
    from day2ai.agent.llm import LLMInvestigator
    from day2ai.agent.offline import OfflineInvestigator
    from day2ai.runner import ChildTriage, with_child_triage
    from tests.fakes import ScriptedChatModel

    llm = LLMInvestigator(ScriptedChatModel(script=["no idea, sorry"] * 6))
    clone = with_child_triage(bundle, llm, None)
    assert isinstance(clone.triage, ChildTriage) and isinstance(llm.triage, OfflineInvestigator)  # type: ignore[attr-defined]
    assert with_child_triage((llm, None), llm, None) is llm  # type: ignore[arg-type]

    events = [e async for e in day2ai.astream(bundle, investigator=llm)]
    report = events[-1].data["report"]
    offline = await day2ai.ainvestigate(bundle, offload=False)
    assert events[-1].type == "done" and "evidence_added" in [e.type for e in events]
    assert [(h.service, h.fault) for h in report.hypotheses] == [(h.service, h.fault) for h in offline.hypotheses]


def test_knowledge_base_is_reopened_from_its_path_or_kept_in_process(tmp_path: Path, bundle: Path) -> None:
    kb_module = pytest.importorskip("day2ai.knowledge.base")
    from day2ai.runner import knowledge_spec, open_knowledge, process_spec

    kb = kb_module.KnowledgeBase(path=tmp_path / "kb")
    sendable, spec = knowledge_spec(kb)
    assert sendable and spec["path"] == tmp_path / "kb"
    again = open_knowledge(spec)
    assert isinstance(again, kb_module.KnowledgeBase) and knowledge_spec(again) == (True, spec)
    assert knowledge_spec(str(tmp_path / "kb")) == (True, {"path": str(tmp_path / "kb")})
    assert process_spec(bundle, None, kb) is not None
    assert process_spec(bundle, None, object()) is None  # a knowledge object we cannot send: run here
    assert process_spec(bundle, SpinInvestigator(1), None) is not None
    assert process_spec((None, None), None, None) is None  # type: ignore[arg-type]


async def test_workers_are_reused_between_investigations_but_never_after_a_cancel(bundle: Path) -> None:
    pids: list[int] = []

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if "pid" in data:
            pids.append(int(data["pid"]))

    for _ in range(2):
        await day2ai.ainvestigate(bundle, investigator=SpinInvestigator(0.05), listeners=[on_event])
    assert pids[0] == pids[1]  # the finished worker went back to the pool, warm
    task = asyncio.create_task(day2ai.ainvestigate(bundle, investigator=SpinInvestigator(60), listeners=[on_event]))
    while len(pids) < 3:
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _gone(pids[2])
    await day2ai.ainvestigate(bundle, investigator=SpinInvestigator(0.05), listeners=[on_event])
    assert pids[3] != pids[2]
