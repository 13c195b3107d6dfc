"""The LLM investigator: a chat model plans the investigation, calls day2ai's tools, and returns
ranked, evidence-backed hypotheses. It starts from the offline triage.

The loop, explicitly (one :class:`_Run` per investigation):

1. run the offline triage; its evidence (same ids) seeds the investigation;
2. system prompt + incident + fenced triage dossier; every non-model message is redacted in one
   place (:meth:`_Run.add`) and every piece of telemetry is fenced as untrusted data;
3. step: ask the model (tools bound); run the tools it calls (repeat/ping-pong aware) and answer
   each call with a fenced, token-capped result; stop when it submits an answer;
4. when a step, token or time limit or a loop is hit: ask it to conclude from what it has;
5. ground the answer (every hypothesis cites ids this run produced); one correction round;
   what is still ungrounded is dropped with a note;
6. if the model fails (HTTP errors after the client's retries, no usable answer) the report
   carries the triage's hypotheses and says so. It never raises for model failures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from day2ai.agent.answer import (
    MAX_HYPOTHESES,
    SUBMIT_TOOL,
    AnswerError,
    FinalAnswer,
    ground,
    parse_answer,
    submit_tool_schema,
)
from day2ai.agent.base import EventListener, Investigator
from day2ai.agent.budget import Budget, Limits, LoopDetector, count_request_tokens
from day2ai.agent.events import Event, guarded, iterate_events
from day2ai.agent.lc_tools import langchain_tools, load_tool_modules
from day2ai.agent.models import chat_model, model_name
from day2ai.agent.pricing import PriceTable
from day2ai.agent.triage import default_triage, render_triage, run_triage
from day2ai.models import Fault, Hypothesis, Incident, Report
from day2ai.prompts import fence, new_boundary, render
from day2ai.redact import redact
from day2ai.sources.base import Sources
from day2ai.tokens import count_tokens
from day2ai.tools.base import TOOLS, Investigation

PROMPT_VERSION = "v1"
DEFAULT_TOOL_TOKENS = 600  # per tool result sent to the model


class LLMInvestigator:
    """Investigates with any LangChain chat model that supports tool calling."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        max_steps: int = 8,
        token_budget: int = 40_000,
        deadline_s: float = 180.0,
        prices: PriceTable | None = None,
        triage: Investigator | None = None,
        tools: Sequence[str] | None = None,
        tool_token_cap: int = DEFAULT_TOOL_TOKENS,
        max_hypotheses: int = MAX_HYPOTHESES,
        final_call_timeout_s: float = 60.0,
    ) -> None:
        self.model = model
        self.limits = Limits(max_steps=max_steps, token_budget=token_budget, deadline_s=deadline_s)
        self.prices = prices or PriceTable.default()
        self.model_label = model_name(model)
        self.name = f"llm:{self.model_label}"
        self.triage = triage if triage is not None else default_triage()
        self.tool_names = tools
        self.tool_token_cap = tool_token_cap
        self.max_hypotheses = max_hypotheses
        self.final_call_timeout_s = final_call_timeout_s

    async def investigate(
        self,
        incident: Incident,
        sources: Sources,
        *,
        knowledge: Any = None,
        listeners: list[EventListener] | None = None,
    ) -> Report:
        run = _Run(self, incident, sources, knowledge, [guarded(x) for x in listeners or []])
        return await run.execute()

    def stream(self, incident: Incident, sources: Sources, *, knowledge: Any = None) -> AsyncIterator[Event]:
        """The investigation as an async stream of events; the last one (``finished``) has the report."""
        return iterate_events(
            lambda listeners: self.investigate(incident, sources, knowledge=knowledge, listeners=listeners))


def build_investigator(model: str, base_url: str | None = None, **options: Any) -> LLMInvestigator:
    """The investigator behind ``--model``/``--base-url`` (key from ``OPENAI_API_KEY``)."""
    return LLMInvestigator(chat_model(model, base_url), **options)


class _Run:
    """State of one LLM investigation."""

    def __init__(self, cfg: LLMInvestigator, incident: Incident, sources: Sources, knowledge: Any,
                 listeners: list[EventListener]) -> None:
        self.cfg = cfg
        self.knowledge = knowledge
        self.inv = Investigation(incident, sources, knowledge=knowledge, tool_token_cap=cfg.tool_token_cap,
                                 listeners=listeners)
        self.budget = Budget(cfg.limits)
        self.loops = LoopDetector(cfg.limits.max_repeats)
        self.boundary = new_boundary()
        self.messages: list[BaseMessage] = []
        self.notes: list[str] = []
        self.failure: str | None = None
        self.tools: dict[str, StructuredTool] = {}
        self.results: dict[str, list[str]] = {}  # call key -> evidence ids, for repeats

    # ------------------------------------------------------------------ the loop
    async def execute(self) -> Report:
        started = time.perf_counter()
        triage, dossier = await self._triage()
        self.tools = {t.name: t for t in langchain_tools(self.inv, self._tool_names(), postprocess=None)}
        self._open(dossier)
        answer = await self._explore()
        hypotheses = await self._finalize(answer) if answer is not None else []
        if not hypotheses:
            hypotheses = self._fallback(triage)
        self.inv.emit("hypothesis_updated", {"stage": "final", "hypotheses": hypotheses})
        report = self._report(hypotheses, time.perf_counter() - started)
        self.inv.emit("finished", {"report": report})
        return report

    async def _explore(self) -> AIMessage | None:
        """Steps until the model answers, a limit or loop stops it (then: conclude), or it fails."""
        bound = self.cfg.model.bind_tools([*self.tools.values(), submit_tool_schema()])
        schemas = [convert_to_openai_tool(t) for t in self.tools.values()] + [submit_tool_schema()]
        while True:
            stop = self.loops.reason or self.budget.exhausted(count_request_tokens(self.messages, schemas))
            if stop:
                return await self._conclude(stop)
            self.budget.steps += 1
            ai = await self._ask(bound, schemas, "step", timeout=max(0.001, self.budget.remaining_seconds()))
            if ai is None:  # failed after the client's retries: fall back to the triage
                return None
            if _answer_payload(ai) is not None or not (ai.tool_calls or ai.invalid_tool_calls):
                return ai
            await self._run_tools(ai)

    async def _conclude(self, reason: str) -> AIMessage | None:
        self.notes.append(f"The model was asked to conclude early: {reason}.")
        self.add(HumanMessage(render(f"conclude.{PROMPT_VERSION}", reason=reason, submit_tool=SUBMIT_TOOL)))
        return await self._ask_final("conclude")

    async def _finalize(self, ai: AIMessage) -> list[Hypothesis]:
        """Ground the answer; on problems, one correction round; then drop what is ungrounded."""
        answer, problems = self._read(ai)
        if problems:
            self._reply(ai, render(f"correction.{PROMPT_VERSION}", problems=problems, submit_tool=SUBMIT_TOOL,
                                   evidence_ids=[e.id for e in self.inv.evidence]))
            corrected = await self._ask_final("correction")
            if corrected is None:
                return self._grounded(answer)
            answer, problems = self._read(corrected)
            if problems:
                self.notes.append("After one correction round the answer still had problems: "
                                  + "; ".join(problems))
        return self._grounded(answer)

    # ------------------------------------------------------------------ model calls
    async def _ask_final(self, kind: str) -> AIMessage | None:
        schemas = [submit_tool_schema()]
        return await self._ask(self.cfg.model.bind_tools(schemas), schemas, kind,
                               timeout=self.cfg.final_call_timeout_s)

    async def _ask(self, runnable: Any, schemas: list[dict[str, Any]], kind: str,
                   *, timeout: float) -> AIMessage | None:
        self.inv.emit("step_started", {"step": self.budget.steps, "kind": kind})
        estimate = count_request_tokens(self.messages, schemas)
        started = time.perf_counter()
        try:
            reply = await asyncio.wait_for(runnable.ainvoke(self.messages), timeout)
        except TimeoutError:
            return self._model_failed(kind, f"no reply within {timeout:.0f} s", started, estimate)
        except Exception as exc:  # the model boundary: HTTP errors after the client's retries, bad replies
            return self._model_failed(kind, f"{type(exc).__name__}: {exc}", started, estimate)
        ai = reply if isinstance(reply, AIMessage) else AIMessage(str(getattr(reply, "content", reply)))
        usage = ai.usage_metadata
        tokens_in = usage["input_tokens"] if usage and usage["input_tokens"] else estimate
        tokens_out = (usage["output_tokens"] if usage and usage["output_tokens"]
                      else count_tokens(str(ai.content) + str(ai.tool_calls)))
        self.budget.charge(tokens_in, tokens_out)
        self.inv.usage.llm_calls += 1
        self.inv.usage.tokens_in += tokens_in
        self.inv.usage.tokens_out += tokens_out
        calls = [c["name"] for c in ai.tool_calls] + [c.get("name") or "?" for c in ai.invalid_tool_calls]
        self.inv.add_step("llm", f"{self.cfg.model_label}:{kind}", tokens_in=tokens_in, tokens_out=tokens_out,
                          seconds=time.perf_counter() - started,
                          summary=("calls " + ", ".join(calls)) if calls else str(ai.content)[:200])
        self.inv.emit("llm_called", {"step": self.budget.steps, "kind": kind, "tokens_in": tokens_in,
                                     "tokens_out": tokens_out, "tool_calls": calls})
        self.messages.append(ai)
        return ai

    def _model_failed(self, kind: str, error: str, started: float, estimate: int) -> AIMessage | None:
        self.failure = redact(error)
        self.inv.add_step("llm", f"{self.cfg.model_label}:{kind}", error=self.failure, tokens_in=0,
                          seconds=time.perf_counter() - started,
                          summary=f"request of ~{estimate} tokens failed")
        self.inv.add_gap("llm", f"the model call failed ({kind}): {self.failure}")
        self.inv.emit("error", {"message": self.failure})
        return None

    # ------------------------------------------------------------------ tools
    async def _run_tools(self, ai: AIMessage) -> None:
        for bad in ai.invalid_tool_calls:
            self.add(ToolMessage(
                f"ERROR: the arguments of {bad.get('name')} are not a valid JSON object "
                f"({bad.get('error')}). Call it again with a JSON object that matches its schema.",
                tool_call_id=bad.get("id") or "invalid"))
        for call in ai.tool_calls:
            text = await self._tool_result(call["name"], call["args"])
            self.add(ToolMessage(fence(f"tool:{call['name']} result", text, self.boundary),
                                 tool_call_id=call["id"] or call["name"], name=call["name"]))

    async def _tool_result(self, name: str, args: dict[str, Any]) -> str:
        if self.loops.reason:
            return f"Not executed: {self.loops.reason}."
        tool = self.tools.get(name)
        if tool is None:
            return f"ERROR: there is no tool named {name!r}; available: {', '.join(sorted(self.tools))}."
        verdict = self.loops.observe(name, args)
        key = self.loops.history[-1]
        if verdict == "stop":
            return f"Not executed: {self.loops.reason}. You must conclude now."
        if verdict == "repeat":
            ids = ", ".join(self.results.get(key, [])) or "none"
            return (f"Not executed: you already made this exact call (its evidence: {ids}; the result is "
                    "above). Use different arguments, another tool, or submit your answer.")
        before = len(self.inv.evidence)
        text = str(await tool.ainvoke(args))
        self.results[key] = [e.id for e in self.inv.evidence[before:]]
        return text

    # ------------------------------------------------------------------ messages
    def add(self, message: BaseMessage) -> None:
        """Append a message for the model; the ONE place where text is redacted on its way out."""
        if not isinstance(message, AIMessage):
            message.content = redact(message.content) if isinstance(message.content, str) else message.content
        self.messages.append(message)

    def _open(self, dossier: str) -> None:
        inc = self.inv.incident
        system = render(f"investigate.{PROMPT_VERSION}.system", boundary=self.boundary,
                        submit_tool=SUBMIT_TOOL, max_steps=self.cfg.limits.max_steps,
                        max_hypotheses=self.cfg.max_hypotheses,
                        faults=[f.value for f in Fault])
        lines = [f"title: {inc.title}"]
        if inc.symptom.description:
            lines.append(f"symptom: {inc.symptom.description}")
        if inc.alert:
            lines.append(f"alert: {inc.alert.name} {inc.alert.labels}")
        incident_text = "\n".join(lines)
        user = render(
            f"investigate.{PROMPT_VERSION}.user", incident_id=inc.id, detected_at=inc.detected_at.isoformat(),
            window_start=inc.window.start.isoformat(), window_end=inc.window.end.isoformat(),
            symptom_service=inc.symptom.service, gaps=[f"{g.source}: {g.reason}" for g in self.inv.gaps],
            incident=fence("incident", incident_text, self.boundary),
            triage=fence("triage dossier (offline analysis)", dossier, self.boundary))
        self.add(SystemMessage(system))
        self.add(HumanMessage(user))

    def _reply(self, ai: AIMessage, text: str) -> None:
        """Answer the model's last turn: tool messages for its calls (if any), else a user message."""
        calls = [c["id"] for c in ai.tool_calls] + [c.get("id") for c in ai.invalid_tool_calls]
        if not calls:
            self.add(HumanMessage(text))
        for call_id in calls:
            self.add(ToolMessage(text, tool_call_id=call_id or "invalid"))

    # ------------------------------------------------------------------ answer
    def _read(self, ai: AIMessage) -> tuple[FinalAnswer | None, list[str]]:
        payload = _answer_payload(ai)
        if payload is None:
            return None, ["you did not submit an answer (call the submit tool or reply with the JSON object)"]
        try:
            answer = parse_answer(payload)
        except AnswerError as exc:
            return None, [str(exc)]
        return answer, ground(answer, self._ids(), limit=self.cfg.max_hypotheses).problems

    def _grounded(self, answer: FinalAnswer | None) -> list[Hypothesis]:
        if answer is None:
            return []
        result = ground(answer, self._ids(), limit=self.cfg.max_hypotheses)
        self.notes.extend(f"Dropped {d}." for d in result.dropped)
        return result.hypotheses

    def _ids(self) -> set[str]:
        return {e.id for e in self.inv.evidence}

    # ------------------------------------------------------------------ triage, fallback, report
    async def _triage(self) -> tuple[Report | None, str]:
        if self.cfg.triage is None:
            self.notes.append("No offline triage was available; the model started from scratch.")
            return None, render_triage(None)
        self.inv.emit("step_started", {"step": 0, "kind": "triage"})
        try:
            report, dossier = await run_triage(self.cfg.triage, self.inv, self.knowledge, self.inv.listeners)
        except Exception as exc:  # the triage is a head start, not a precondition
            self.notes.append(f"The offline triage failed ({type(exc).__name__}: {exc}); "
                              "the model started from scratch.")
            return None, render_triage(None)
        self.inv.emit("hypothesis_updated", {"stage": "triage", "hypotheses": report.hypotheses})
        return report, dossier

    def _tool_names(self) -> list[str]:
        """The configured tools, or all registered ones; knowledge tools only with a knowledge base."""
        load_tool_modules()
        names = list(self.cfg.tool_names) if self.cfg.tool_names is not None else list(TOOLS)
        if self.knowledge is None:
            names = [n for n in names if TOOLS[n].__module__ != "day2ai.tools.knowledge"]
        return names

    def _fallback(self, triage: Report | None) -> list[Hypothesis]:
        why = self.failure or "the model gave no grounded answer"
        if triage is None or not triage.hypotheses:
            self.notes.append(f"No hypotheses: {why}, and no triage hypotheses were available.")
            return []
        self.notes.append(f"The hypotheses are the offline triage's: {why}.")
        self.inv.add_gap("llm", f"model answer not used: {why}")
        return list(triage.hypotheses)

    def _report(self, hypotheses: list[Hypothesis], seconds: float) -> Report:
        usage = self.inv.usage
        cost = self.cfg.prices.cost(self.cfg.model_label, usage.tokens_in, usage.tokens_out)
        if cost is None:
            self.notes.append(f"No price is configured for model {self.cfg.model_label}; cost_usd is 0.")
        report_usage = usage.model_copy(update={"seconds": seconds, "cost_usd": cost or 0.0})
        return Report(incident=self.inv.incident, investigator=self.cfg.name, hypotheses=hypotheses,
                      evidence=self.inv.evidence, timeline=self.inv.timeline, usage=report_usage,
                      gaps=self.inv.gaps, notes=[redact(n) for n in self.notes])


def _answer_payload(ai: AIMessage) -> str | dict[str, Any] | None:
    """The answer in a model turn: the submit call's arguments, or a text reply without tool calls."""
    for call in ai.tool_calls:
        if call["name"] == SUBMIT_TOOL:
            return call["args"]
    if ai.tool_calls or ai.invalid_tool_calls:
        return None
    text = ai.content if isinstance(ai.content, str) else " ".join(str(b) for b in ai.content)
    return text if text.strip() else None
