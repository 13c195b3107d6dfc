"""The LLM investigator's loop, driven by the scripted fake chat model (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from day2ai.agent.llm import LLMInvestigator
from day2ai.agent.pricing import Price, PriceTable
from day2ai.models import Fault, Report
from day2ai.sources.base import Sources
from tests.agent.llm_support import (
    CALLS,
    INCIDENT,
    INJECTION,
    SECRET,
    TEST_TOOLS,
    FakeTriage,
    register_test_tools,
)
from tests.fakes import ScriptedChatModel, call, hypothesis, submit, text, tool_calls


@pytest.fixture(autouse=True)
def _tools() -> Iterator[None]:
    yield from register_test_tools()


def investigator(model: ScriptedChatModel, **kw: Any) -> LLMInvestigator:
    kw.setdefault("triage", FakeTriage())
    kw.setdefault("tools", TEST_TOOLS)
    return LLMInvestigator(model, **kw)


async def run(model: ScriptedChatModel, **kw: Any) -> Report:
    return await investigator(model, **kw).investigate(INCIDENT, Sources())


def tool_names_offered(model: ScriptedChatModel, request: int) -> set[str]:
    return {t["function"]["name"] for t in model.requests[request]["tools"]}


async def test_tool_round_trip_then_grounded_answer() -> None:
    model = ScriptedChatModel(script=[
        tool_calls(("t_logs", {"service": "payments"}), ("t_metrics", {"service": "payments"})),
        submit(hypothesis("payments", "connection_pool_exhaustion", ["e1", "e3"], 0.8),
               hypothesis("checkout", "code_error", ["e2"], 0.2)),
    ])
    report = await run(model)
    assert report.investigator == "llm:scripted"
    assert [(h.service, h.fault) for h in report.hypotheses] == [
        ("payments", Fault.CONNECTION_POOL_EXHAUSTION), ("checkout", Fault.CODE_ERROR)]
    assert report.hypotheses[0].supporting == ["e1", "e3"]
    assert {e.id for e in report.evidence} == {"e1", "e2", "e3", "e4"}
    assert [c[0] for c in CALLS] == ["t_logs", "t_metrics"]
    assert report.usage.llm_calls == 2
    assert report.usage.tokens_in > 0 and report.usage.tokens_out > 0
    llm_steps = [s for s in report.timeline if s.kind == "llm"]
    assert len(llm_steps) == 2 and all(s.tokens_in > 0 for s in llm_steps)
    assert sum(s.tokens_in for s in llm_steps) == report.usage.tokens_in
    # the second request carries one tool message per call, each fenced
    tool_msgs = [m for m in model.requests[1]["messages"] if isinstance(m, ToolMessage)]
    assert len(tool_msgs) == 2 and all(str(m.content).startswith("[[[DATA ") for m in tool_msgs)
    assert "submit_hypotheses" in tool_names_offered(model, 0)
    assert set(TEST_TOOLS) <= tool_names_offered(model, 0)


async def test_json_text_answer_is_parsed() -> None:
    model = ScriptedChatModel(script=[text(hypothesis("payments", "Connection Pool Exhaustion", ["e1"]))])
    report = await run(model)
    assert report.hypotheses[0].fault is Fault.CONNECTION_POOL_EXHAUSTION
    assert not any("triage" in n for n in report.notes)


async def test_ungrounded_answer_gets_one_correction() -> None:
    model = ScriptedChatModel(script=[
        submit(hypothesis("payments", "memory_leak", ["e99"])),
        submit(hypothesis("payments", "memory_leak", ["e1"])),
    ])
    report = await run(model)
    assert [(h.service, h.fault, h.supporting) for h in report.hypotheses] == [
        ("payments", Fault.MEMORY_LEAK, ["e1"])]
    correction = model.requests[1]["messages"][-1]
    assert isinstance(correction, ToolMessage)  # answers the submit call
    assert "e99" in str(correction.content) and "e1, e2" in str(correction.content)
    assert tool_names_offered(model, 1) == {"submit_hypotheses"}


async def test_still_ungrounded_after_correction_is_dropped_and_triage_used() -> None:
    bad = submit(hypothesis("X", "other", ["e42"]))
    model = ScriptedChatModel(script=[bad, bad])
    report = await run(model)
    assert [h.service for h in report.hypotheses] == ["payments", "checkout"]  # the triage's
    assert any("Dropped hypothesis 1 (X, other)" in n for n in report.notes)
    assert any("offline triage" in n for n in report.notes)
    assert any(g.source == "llm" for g in report.gaps)


async def test_partly_grounded_keeps_the_good_hypothesis_only() -> None:
    answer = submit(hypothesis("payments", "memory_leak", ["e1"]), hypothesis("ghost", "other", []))
    model = ScriptedChatModel(script=[answer, answer])
    report = await run(model)
    assert [h.service for h in report.hypotheses] == ["payments"]
    assert any("ghost" in n and "Dropped" in n for n in report.notes)
    assert any("still had problems" in n for n in report.notes)


async def test_unknown_ids_are_stripped_when_others_are_valid() -> None:
    model = ScriptedChatModel(script=[
        submit(hypothesis("payments", "memory_leak", ["e1", "e77"])),
        submit(hypothesis("payments", "memory_leak", ["e1", "e77"])),
    ])
    report = await run(model)
    assert report.hypotheses[0].supporting == ["e1"]


async def test_model_that_never_stops_is_made_to_conclude() -> None:
    counter = iter(range(1000))

    def policy(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        names = {t["function"]["name"] for t in tools}
        if names == {"submit_hypotheses"}:
            return submit(hypothesis("payments", "connection_pool_exhaustion", ["e1"]))
        return call("t_logs", service=f"svc{next(counter)}")

    model = ScriptedChatModel(then=policy)
    report = await run(model, max_steps=3)
    assert len(CALLS) == 3
    assert report.hypotheses[0].supporting == ["e1"]
    assert any("step limit (3)" in n for n in report.notes)
    assert "conclude" in str(model.requests[-1]["messages"][-1].content).lower()


async def test_stubborn_model_falls_back_to_triage() -> None:
    model = ScriptedChatModel(then=lambda m, t: call("t_metrics", service=f"s{len(m)}"))
    report = await run(model, max_steps=2)
    assert [h.service for h in report.hypotheses] == ["payments", "checkout"]
    assert any("offline triage" in n for n in report.notes)
    assert len(model.requests) == 4  # 2 steps, conclude, correction


async def test_repeated_calls_are_not_executed_and_end_the_run() -> None:
    model = ScriptedChatModel(script=[call("t_logs", service="payments")] * 4
                              + [submit(hypothesis("payments", "memory_leak", ["e3"]))])
    report = await run(model, max_steps=8)
    assert len(CALLS) == 1  # only the first executed
    second = [m for m in model.requests[2]["messages"] if isinstance(m, ToolMessage)][-1]
    assert "already made this call" in str(second.content) and "e3" in str(second.content)
    assert any("repeated identical tool calls" in n for n in report.notes)
    assert report.hypotheses[0].supporting == ["e3"]


async def test_ping_pong_is_detected() -> None:
    a, b = call("t_logs", service="payments"), call("t_metrics", service="payments")
    model = ScriptedChatModel(script=[a, b, a, b, submit(hypothesis("payments", "memory_leak", ["e1"]))])
    report = await run(model)
    assert any("alternated" in n for n in report.notes)
    assert len(CALLS) == 2


async def test_token_budget_forces_conclusion() -> None:
    model = ScriptedChatModel(script=[call("t_logs", service="payments"),
                                      submit(hypothesis("payments", "memory_leak", ["e1"]))])
    report = await run(model, token_budget=1500)
    assert any("token budget (1500)" in n for n in report.notes)
    assert len(model.requests) == 2


async def test_deadline_forces_conclusion() -> None:
    # generous margins: the first model call must fit in the deadline even on a loaded machine
    model = ScriptedChatModel(script=[call("t_slow", seconds=1.6),
                                      submit(hypothesis("payments", "memory_leak", ["e1"]))])
    report = await run(model, deadline_s=1.5)
    assert any("time limit" in n for n in report.notes)
    assert report.hypotheses[0].fault is Fault.MEMORY_LEAK


async def test_model_error_falls_back_to_triage() -> None:
    model = ScriptedChatModel(script=[RuntimeError("HTTP 500 from the endpoint")])
    report = await run(model)
    assert [h.service for h in report.hypotheses] == ["payments", "checkout"]
    assert any("HTTP 500" in g.reason for g in report.gaps)
    assert any(s.error and "HTTP 500" in s.error for s in report.timeline)


async def test_no_triage_and_no_answer_gives_empty_report() -> None:
    model = ScriptedChatModel(script=[RuntimeError("boom")])
    report = await run(model, triage=FakeTriage(fail=True))
    assert report.hypotheses == []
    assert any("triage failed" in n for n in report.notes)


async def test_tool_errors_come_back_as_messages() -> None:
    model = ScriptedChatModel(script=[
        tool_calls(("t_logs", {"limit": 3}), ("t_nope", {}), ("t_broken", {}), ("t_logs", {"service": 7})),
        submit(hypothesis("payments", "memory_leak", ["e1"])),
    ])
    report = await run(model)
    contents = [str(m.content) for m in model.requests[1]["messages"] if isinstance(m, ToolMessage)]
    assert "invalid arguments for t_logs" in contents[0] and "service" in contents[0]
    assert "no tool named 't_nope'" in contents[1]
    assert "t_broken failed unexpectedly (ZeroDivisionError" in contents[2]
    assert "invalid arguments for t_logs" in contents[3]
    assert any(g.source == "t_broken" for g in report.gaps)
    assert report.hypotheses


async def test_malformed_tool_arguments_are_reported_to_the_model() -> None:
    broken = AIMessage(content="", invalid_tool_calls=[
        {"name": "t_logs", "args": "{service: payments", "id": "call_bad", "error": "bad JSON",
         "type": "invalid_tool_call"}])
    model = ScriptedChatModel(script=[broken, submit(hypothesis("payments", "memory_leak", ["e1"]))])
    report = await run(model)
    reply = model.requests[1]["messages"][-1]
    assert isinstance(reply, ToolMessage) and reply.tool_call_id == "call_bad"
    assert "invalid JSON in t_logs arguments" in str(reply.content)
    assert report.hypotheses[0].service == "payments"


async def test_unparseable_answer_gets_corrected() -> None:
    model = ScriptedChatModel(script=["I think it is the database.",
                                      text(hypothesis("payments", "memory_leak", ["e2"]))])
    report = await run(model)
    assert report.hypotheses[0].supporting == ["e2"]
    assert "no JSON object" in str(model.requests[1]["messages"][-1].content)


async def test_secrets_redacted_and_injection_fenced_in_every_request() -> None:
    model = ScriptedChatModel(script=[call("t_logs", service="payments"),
                                      submit(hypothesis("payments", "memory_leak", ["e1"]))])
    await run(model)
    bodies = model.request_texts()
    assert all(SECRET not in body for body in bodies)
    for req in model.requests:
        for m in req["messages"]:
            content = str(m.content)
            if INJECTION in content:
                assert m.type in ("human", "tool")
                for piece in content.split(INJECTION)[:-1]:  # every occurrence sits inside an open fence
                    assert piece.rfind("[[[DATA ") > piece.rfind("[[[END DATA ")


async def test_cost_from_price_table() -> None:
    model = ScriptedChatModel(model_name="gpt-test", script=[submit(hypothesis("payments", "other", ["e1"]))])
    report = await run(model, prices=PriceTable({"gpt-test": Price(input=1.0, output=2.0)}))
    expected = (report.usage.tokens_in * 1.0 + report.usage.tokens_out * 2.0) / 1_000_000
    assert report.usage.cost_usd == pytest.approx(expected)
    assert report.to_contract()["usage"]["llm_tokens"] == report.usage.tokens_in + report.usage.tokens_out


async def test_unknown_price_is_noted() -> None:
    model = ScriptedChatModel(script=[submit(hypothesis("payments", "other", ["e1"]))])
    report = await run(model, prices=PriceTable({}))
    assert report.usage.cost_usd == 0.0
    assert any("No price" in n for n in report.notes)


async def test_events_stream_and_callbacks() -> None:
    model = ScriptedChatModel(script=[call("t_logs", service="payments"),
                                      submit(hypothesis("payments", "memory_leak", ["e3"]))])
    inv = investigator(model)
    kinds = [e.kind async for e in inv.stream(INCIDENT, Sources())]
    assert kinds[0] == "step_started"
    assert kinds[-1] == "finished"
    for needed in ("tool_called", "evidence_added", "hypothesis_updated", "llm_called"):
        assert needed in kinds
    assert kinds.count("finished") == 1

    seen: list[str] = []

    def broken_listener(kind: str, payload: dict[str, Any]) -> None:
        seen.append(kind)
        raise ValueError("listener bug")

    model2 = ScriptedChatModel(script=[submit(hypothesis("payments", "other", ["e1"]))])
    report = await investigator(model2).investigate(INCIDENT, Sources(), listeners=[broken_listener])
    assert report.hypotheses and "finished" in seen


async def test_finished_event_carries_the_report() -> None:
    model = ScriptedChatModel(script=[submit(hypothesis("payments", "other", ["e1"]))])
    events = [e async for e in investigator(model).stream(INCIDENT, Sources())]
    assert isinstance(events[-1].data["report"], Report)
