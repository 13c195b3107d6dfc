"""The LLM agent with weak models and real servers' quirks (scripted fake model and loopback stub)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from day2ai.agent.budget import call_key, count_request_tokens
from day2ai.agent.context import SAFETY
from day2ai.agent.llm import LLMInvestigator
from day2ai.agent.replies import calls_in_text, normalise_reply, repair_json
from day2ai.agent.servers import context_window_from_error, short_error
from day2ai.models import Report
from day2ai.render.text import report_rich
from day2ai.sources.base import Sources
from tests.agent.llm_support import CALLS, INCIDENT, TEST_TOOLS, FakeTriage, register_test_tools
from tests.agent.stub_openai import Failure, StubOpenAI, reply
from tests.fakes import ScriptedChatModel, call, hypothesis, submit, tool_calls

SUBMIT_CHOICE = "submit_hypotheses"


@pytest.fixture(autouse=True)
def _tools() -> Iterator[None]:
    yield from register_test_tools()


async def run(model: Any, **kw: Any) -> Report:
    kw.setdefault("triage", FakeTriage())
    kw.setdefault("tools", TEST_TOOLS)
    return await LLMInvestigator(model, **kw).investigate(INCIDENT, Sources())


# ---------------------------------------------------------------- reading replies
def test_tool_calls_written_as_text_are_read() -> None:
    offered = {"t_logs", "submit_hypotheses"}
    tagged = calls_in_text('ok <tool_call>{"name": "t_logs", "arguments": {"service": "db"}}</tool_call>', offered)
    assert [(c["name"], c["args"]) for c in tagged] == [("t_logs", {"service": "db"})]
    plain = calls_in_text('{"name": "t_logs", "parameters": "{\\"service\\": \\"db\\"}"}', offered)
    assert plain[0]["args"] == {"service": "db"}
    native = calls_in_text('functions.t_logs:\n{"service": "web"}', offered)
    assert native[0]["args"] == {"service": "web"}
    assert calls_in_text('{"name": "rm_rf", "arguments": {}}', offered) == []  # not offered
    assert calls_in_text("the database is slow", offered) == []


def test_json_repairs_are_mechanical_only() -> None:
    assert repair_json('{"a": [1, 2,], }') == {"a": [1, 2]}
    assert repair_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert repair_json('{"hypotheses": [{"service": "db", "fault": "disk') == {
        "hypotheses": [{"service": "db", "fault": "disk"}]}
    with pytest.raises(ValueError):
        repair_json("{service: db")
    with pytest.raises(ValueError, match="empty"):
        repair_json("  ")


def test_normalise_reply_repairs_or_names_the_problem() -> None:
    ai = AIMessage(content="", invalid_tool_calls=[
        {"name": "t_logs", "args": '{"service": "db",', "id": "a", "error": "x", "type": "invalid_tool_call"},
        {"name": "submit_hypotheses", "args": "{hypotheses", "id": "b", "error": "x", "type": "invalid_tool_call"}])
    fixed, done = normalise_reply(ai, {"t_logs", "submit_hypotheses"})
    assert [c["name"] for c in fixed.tool_calls] == ["t_logs"] and done
    assert str(fixed.invalid_tool_calls[0]["error"]).startswith("invalid JSON in submit_hypotheses arguments: ")


def test_server_errors_are_short_and_name_the_window() -> None:
    assert context_window_from_error("This model's maximum context length is 2048 tokens, however you "
                                     "requested 2462 tokens") == 2048
    assert context_window_from_error("Requested tokens (2462) exceed context window of 2048") == 2048
    assert context_window_from_error("context 4096 < 5000 tokens") == 4096
    assert context_window_from_error("rate limited") is None
    long = RuntimeError("validation error " + "x" * 3000)
    assert len(short_error(long)) <= 240 and short_error(long).startswith("RuntimeError: validation")


def test_equivalent_calls_have_one_key() -> None:
    from day2ai.agent.lc_tools import args_schema
    from tests.agent.llm_support import t_logs

    schema = args_schema("t_logs", t_logs)
    assert call_key("t_logs", {"service": "db"}, schema) == call_key("t_logs", {"service": "db", "limit": 5}, schema)
    assert call_key("t_logs", {"service": "db"}, schema) != call_key("t_logs", {"service": "db", "limit": 9}, schema)


# ---------------------------------------------------------------- the loop
async def test_tool_choice_auto_then_named_submit_tool() -> None:
    model = ScriptedChatModel(script=[call("t_logs", service="payments"), call("t_metrics", service="payments"),
                                      submit(hypothesis("payments", "memory_leak", ["e3"]))])
    report = await run(model, max_steps=2)
    assert [r["tool_choice"] for r in model.requests] == ["auto", "auto", SUBMIT_CHOICE]
    assert [t["function"]["name"] for t in model.requests[-1]["tools"]] == [SUBMIT_CHOICE]
    submit_schema = model.requests[-1]["tools"][0]["function"]["parameters"]
    item = submit_schema["properties"]["hypotheses"]["items"]["properties"]
    assert "memory_leak" in item["fault"]["enum"] and item["evidence"]["items"]["enum"] == ["e1", "e2", "e3", "e4"]
    assert report.hypotheses[0].service == "payments"


async def test_first_tool_is_named_and_offered_alone() -> None:
    model = ScriptedChatModel(script=[call("t_metrics", service="payments"),
                                      submit(hypothesis("payments", "memory_leak", ["e3"]))])
    await run(model, first_tool="t_metrics")
    assert model.requests[0]["tool_choice"] == "t_metrics"
    assert [t["function"]["name"] for t in model.requests[0]["tools"]] == ["t_metrics"]
    assert model.requests[1]["tool_choice"] == "auto"


async def test_invalid_submit_arguments_get_an_accurate_correction() -> None:
    broken = AIMessage(content="", invalid_tool_calls=[
        {"name": "submit_hypotheses", "args": "{hypotheses: oops", "id": "s1", "error": "bad", "type":
         "invalid_tool_call"}])
    model = ScriptedChatModel(script=[broken, submit(hypothesis("payments", "memory_leak", ["e1"]))])
    report = await run(model)
    correction = model.requests[1]["messages"][-1]
    assert isinstance(correction, ToolMessage) and correction.tool_call_id == "s1"
    assert "invalid JSON in submit_hypotheses arguments" in str(correction.content)
    assert "did not submit" not in str(correction.content)
    assert report.hypotheses[0].service == "payments"


async def test_text_tool_calls_are_executed() -> None:
    model = ScriptedChatModel(script=['<tool_call>{"name": "t_logs", "arguments": {"service": "db"}}</tool_call>',
                                      submit(hypothesis("db", "memory_leak", ["e3"]))])
    report = await run(model)
    assert CALLS == [("t_logs", {"service": "db", "limit": 5})]
    assert report.hypotheses[0].service == "db"
    assert any("written as text" in n for n in report.notes)


async def test_control_messages_are_outside_the_fence_and_defaults_count_as_repeats() -> None:
    model = ScriptedChatModel(script=[call("t_logs", service="payments"), call("t_logs", service="payments", limit=5),
                                      submit(hypothesis("payments", "memory_leak", ["e3"]))])
    await run(model)
    assert len(CALLS) == 1  # {"service"} and {"service", "limit": 5 (the default)} are one call
    control = model.requests[2]["messages"][-1]
    assert isinstance(control, ToolMessage) and str(control.content).startswith("Not executed: you already made")
    assert "[[[DATA" not in str(control.content)


async def test_dossier_sent_once_and_used_results_shortened() -> None:
    model = ScriptedChatModel(script=[tool_calls(("t_logs", {"service": "payments", "limit": 20})),
                                      call("t_metrics", service="payments"),
                                      submit(hypothesis("payments", "memory_leak", ["e3"]))])
    report = await run(model, tool_token_cap=400)
    users = [str(r["messages"][1].content) for r in model.requests]
    assert len(users[1]) <= len(users[0])
    first_result = next(m for m in model.requests[1]["messages"] if isinstance(m, ToolMessage))
    later = next(m for m in model.requests[2]["messages"] if isinstance(m, ToolMessage))
    assert len(str(later.content)) < len(str(first_result.content))
    assert "[e3]" in str(later.content) and str(later.content).startswith("[[[DATA")
    llm_steps = [s for s in report.timeline if s.kind == "llm"]
    assert all(s.tokens_in > 0 and s.tokens_out > 0 for s in llm_steps)


async def test_requests_fit_the_context_window() -> None:
    window, reserve = 2600, 300
    model = ScriptedChatModel(script=[call("t_logs", service="payments", limit=20),
                                      submit(hypothesis("payments", "memory_leak", ["e3"]))])
    await run(model, context_window=window, max_output_tokens=reserve)
    for r in model.requests:
        assert count_request_tokens(r["messages"], r["tools"]) * SAFETY + reserve <= window


async def test_a_request_that_cannot_fit_is_not_sent() -> None:
    model = ScriptedChatModel(script=[])
    report = await run(model, context_window=700, max_output_tokens=600)
    assert model.requests == []
    llm_gaps = [g for g in report.gaps if g.source == "llm"]
    assert len(llm_gaps) == 1 and "does not fit the context window of 700" in llm_gaps[0].reason
    assert report.notes[0].startswith("Offline fallback") and report.hypotheses


async def test_model_failure_is_stated_once_and_shown_in_text() -> None:
    model = ScriptedChatModel(script=[RuntimeError("HTTP 500 " + "detail " * 400)])
    report = await run(model)
    llm_gaps = [g for g in report.gaps if g.source == "llm"]
    assert len(llm_gaps) == 1 and len(llm_gaps[0].reason) < 300
    assert report.notes[0].startswith("Offline fallback") and len(report.notes[0]) < 400
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(report_rich(report))
    assert "note: Offline fallback" in console.export_text()


# ---------------------------------------------------------------- on the wire (loopback stub)
def _answer(request: dict[str, Any]) -> Any:
    return reply(tool_calls=[("submit_hypotheses", {"hypotheses": [hypothesis("payments", "memory_leak", ["e1"])]})])


async def test_wire_format_for_local_servers() -> None:
    from day2ai.agent.models import chat_model

    script: list[Any] = [reply(tool_calls=[("t_logs", {"service": "payments"})]), _answer]
    with StubOpenAI(script) as stub:
        model = chat_model("stub", base_url=stub.base_url, timeout_s=10, max_output_tokens=321)
        report = await run(model)
    bodies = stub.requests
    assert len(bodies) == 2 and report.hypotheses
    assistant = [m for m in bodies[1]["messages"] if m["role"] == "assistant"]
    assert assistant and all(m["content"] == "" for m in assistant)  # never null
    assert all(b["max_tokens"] == 321 and "max_completion_tokens" not in b for b in bodies)
    assert bodies[0]["tool_choice"] == "auto"


async def test_context_error_is_learnt_once_and_the_request_shrunk() -> None:
    from day2ai.agent.models import chat_model

    too_long = Failure(400, body=json.dumps({"error": {"message": "This model's maximum context length is 2600 "
                                                       "tokens, however you requested 9000 tokens"}}))
    with StubOpenAI([too_long, _answer]) as stub:
        model = chat_model("stub", base_url=stub.base_url, timeout_s=10, max_output_tokens=200)
        report = await run(model)
    assert stub.statuses == [400, 200]
    assert len(stub.bodies[1]) < len(stub.bodies[0]) or len(stub.bodies[1]) <= 2600 * 4
    assert any("context window is 2600 tokens" in n for n in report.notes)
    assert report.hypotheses[0].service == "payments"


def test_timeouts_are_not_retried_against_local_servers() -> None:
    from day2ai.agent.models import chat_model

    assert getattr(chat_model("m", base_url="http://127.0.0.1:9/v1"), "max_retries", None) == 0
    assert isinstance(HumanMessage("x"), HumanMessage)
