"""The LLM investigator: a chat model plans the investigation, calls day2ai's tools, and returns
ranked, evidence-backed hypotheses. It starts from the offline triage.

The loop, explicitly (one :class:`_Run` per investigation):

1. run the offline triage; its evidence (same ids) seeds the investigation;
2. system prompt + incident + fenced triage dossier (:class:`~day2ai.agent.context.Conversation`
   redacts every non-model message in one place, fences untrusted text, shortens what the
   model has already read and fits every request to the server's context window);
3. step: ask the model (``tool_choice="auto"``, tools bound; optionally the first step names one
   tool); run the tools it calls (repeat/ping-pong aware, equivalent arguments count as repeats)
   and answer each call; stop when it submits an answer;
4. when a step, token or time limit, the context window or a loop stops it: ask it to conclude
   (``tool_choice`` naming ``submit_hypotheses``);
5. ground the answer (every hypothesis cites ids this run produced); one correction round with
   an accurate reason; what is still ungrounded is dropped with a note;
6. if the model fails (HTTP error, timeout, no usable answer) the report carries the triage's
   hypotheses and says so once in ``gaps`` (which the CLI prints on stderr) and first in ``notes``.
   It never raises for model failures, and it never retries a timed-out request (a single-slot
   local server would only queue it behind the abandoned one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, SecretStr

from day2ai.agent.answer import (
    MAX_HYPOTHESES,
    SUBMIT_TOOL,
    AnswerError,
    FinalAnswer,
    brief_submit_tool_schema,
    ground,
    parse_answer,
    submit_tool_schema,
)
from day2ai.agent.base import EventListener, Investigator
from day2ai.agent.budget import Budget, Limits, LoopDetector, call_key
from day2ai.agent.context import Conversation
from day2ai.agent.events import Event, guarded, iterate_events
from day2ai.agent.lc_tools import langchain_tools, load_tool_modules
from day2ai.agent.models import DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_TIMEOUT_S, chat_model, model_name
from day2ai.agent.pricing import PriceTable
from day2ai.agent.replies import answer_payload, normalise_reply
from day2ai.agent.servers import ERROR_CHARS, context_window_from_error, probe_context_window, short_error
from day2ai.agent.triage import default_triage, render_triage, run_triage
from day2ai.errors import ConfigError
from day2ai.models import Fault, Hypothesis, Incident, Report
from day2ai.prompts import fence, new_boundary, render
from day2ai.redact import redact
from day2ai.sources.base import Sources
from day2ai.tokens import count_tokens, truncate_to_tokens
from day2ai.tools.base import TOOLS, Investigation

PROMPT_VERSION = "v3"
DEFAULT_TOOL_TOKENS = 600  # per tool result sent to the model
SUMMARY_CHARS = 110  # per evidence line in a shortened tool result
SUMMARY_LINES = 6  # evidence lines kept in a shortened tool result (the other ids are listed)
TRIAGE_TOOLS = frozenset({"rank_root_causes"})  # what the offline triage already ran: not offered again
log = logging.getLogger(__name__)


class LLMInvestigator:
    """Investigates with any LangChain chat model that supports tool calling.

    ``request_timeout_s`` bounds each model request (never retried on timeout); ``deadline_s``
    bounds exploration (concluding gets one more request); ``context_window`` (tokens) is the
    server's, else probed from its metadata or learnt from its first "too long" error;
    ``max_output_tokens`` is reserved for each reply when fitting requests (``build_investigator``
    also caps replies with it); ``first_tool`` makes the first step call that tool (``tool_choice``
    naming it), which helps weak models start with the obvious check.
    """

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
        final_call_timeout_s: float | None = None,
        request_timeout_s: float = DEFAULT_TIMEOUT_S,
        context_window: int | None = None,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
        first_tool: str | None = None,
        probe_context: bool = True,
    ) -> None:
        if request_timeout_s <= 0 or (context_window is not None and context_window <= max_output_tokens):
            raise ConfigError("request_timeout_s must be positive and context_window larger than max_output_tokens")
        self.model = model
        self.limits = Limits(max_steps=max_steps, token_budget=token_budget, deadline_s=deadline_s)
        self.prices = prices or PriceTable.default()
        self.model_label = model_name(model)
        self.name = f"llm:{self.model_label}"
        self.triage = triage if triage is not None else default_triage()
        self.tool_names = tools
        self.tool_token_cap = tool_token_cap
        self.max_hypotheses = max_hypotheses
        self.request_timeout_s = request_timeout_s
        self.final_call_timeout_s = final_call_timeout_s or request_timeout_s
        self.context_window = context_window
        self.max_output_tokens = max_output_tokens
        self.first_tool = first_tool
        self.probe_context = probe_context

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


def build_investigator(model: str, base_url: str | None = None, *, timeout_s: float | None = None,
                       max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS, max_retries: int | None = None,
                       **options: Any) -> LLMInvestigator:
    """The investigator behind ``--model``/``--base-url`` (key from ``OPENAI_API_KEY``);
    ``timeout_s`` is the per-request timeout (``--timeout``), ``options`` go to :class:`LLMInvestigator`."""
    timeout = timeout_s or DEFAULT_TIMEOUT_S
    chat = chat_model(model, base_url, timeout_s=timeout, max_output_tokens=max_output_tokens,
                      max_retries=max_retries)
    return LLMInvestigator(chat, request_timeout_s=timeout, max_output_tokens=max_output_tokens, **options)


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
        self.conv = Conversation(new_boundary())
        self.notes: list[str] = []
        self.failure: str | None = None
        self.answer_problem: str | None = None
        self.window = cfg.context_window
        self.resized = False
        self.tools: dict[str, StructuredTool] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        self.step_schemas: list[dict[str, Any]] = []
        self.results: dict[str, list[str]] = {}  # call key -> evidence ids, for repeats

    # ------------------------------------------------------------------ the loop
    async def execute(self) -> Report:
        started = time.perf_counter()
        triage, dossier = await self._triage()
        self.tools = {t.name: t for t in langchain_tools(self.inv, self._tool_names(), postprocess=None)}
        self.schemas = {name: _compact_schema(convert_to_openai_tool(t)) for name, t in self.tools.items()
                        if not (name in TRIAGE_TOOLS and triage is not None)}
        await self._learn_window()
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
        while True:
            schemas, choice = self._step_tools()
            self.conv.shorten_used()
            stop = self.loops.reason or self.budget.exhausted(self.conv.tokens(schemas))
            stop = stop or self.conv.fit(schemas, self.window, self.cfg.max_output_tokens)
            if stop:
                return await self._conclude(stop)
            self.budget.steps += 1
            timeout = max(0.001, min(self.cfg.request_timeout_s, self.budget.explore_seconds()))
            ai = await self._ask(schemas, choice, "step", timeout=timeout)
            if ai is None:  # failed: fall back to the triage
                return None
            payload, problem = answer_payload(ai)
            if payload is not None or problem is not None or not (ai.tool_calls or ai.invalid_tool_calls):
                return ai
            await self._run_tools(ai)

    def _step_tools(self) -> tuple[list[dict[str, Any]], str]:
        """The tools a step needs and the tool_choice: one named tool first if configured, else all."""
        first = self.cfg.first_tool
        if self.budget.steps == 0 and first:
            if first not in self.schemas:
                raise ConfigError(f"first_tool {first!r} is not an available tool ({', '.join(sorted(self.schemas))})")
            return [self.schemas[first]], first
        return [*self.schemas.values(), brief_submit_tool_schema()], "auto"

    def _submit_schema(self) -> dict[str, Any]:
        """The answer tool in full, the known evidence ids as an enum (the answer is forced)."""
        return submit_tool_schema([e.id for e in self.inv.evidence], self.cfg.max_hypotheses)

    async def _conclude(self, reason: str) -> AIMessage | None:
        self.notes.append(f"The model was asked to conclude early: {reason}.")
        self.conv.add(HumanMessage(render(f"conclude.{PROMPT_VERSION}", reason=reason, submit_tool=SUBMIT_TOOL)))
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
                self.notes.append(_short("After one correction round the answer still had problems: "
                                         + "; ".join(problems)))
        return self._grounded(answer)

    # ------------------------------------------------------------------ model calls
    async def _ask_final(self, kind: str) -> AIMessage | None:
        schemas = [self._submit_schema()]
        misfit = self.conv.fit(schemas, self.window, self.cfg.max_output_tokens)
        if misfit:
            return self._model_failed(kind, misfit, time.perf_counter(), self.conv.tokens(schemas), sent=False)
        timeout = min(self.cfg.final_call_timeout_s, max(1.0, self.budget.remaining_seconds()))
        return await self._ask(schemas, SUBMIT_TOOL, kind, timeout=timeout)

    async def _ask(self, schemas: list[dict[str, Any]], choice: str, kind: str, *, timeout: float) -> AIMessage | None:
        self.inv.emit("step_started", {"step": self.budget.steps, "kind": kind})
        self.step_schemas = schemas
        estimate = self.conv.tokens(schemas)
        started = time.perf_counter()
        runnable = self.cfg.model.bind_tools(schemas, tool_choice=choice)
        try:
            reply = await asyncio.wait_for(runnable.ainvoke(self.conv.messages), timeout)
        except TimeoutError:
            return self._model_failed(kind, f"no reply within {timeout:.0f} s (not retried)", started, estimate)
        except Exception as exc:  # the model boundary: HTTP errors after the client's retries, bad replies
            if await self._resize(exc, schemas):
                return await self._ask(schemas, choice, kind, timeout=timeout)
            return self._model_failed(kind, short_error(exc), started, estimate)
        ai = reply if isinstance(reply, AIMessage) else AIMessage(str(getattr(reply, "content", reply)))
        ai, repairs = normalise_reply(ai, {s["function"]["name"] for s in schemas})
        for note in (f"The model's reply needed reading: {r}." for r in repairs):
            if note not in self.notes:
                self.notes.append(note)
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
                          summary=("calls " + ", ".join(calls)) if calls else redact(str(ai.content)[:200]))
        self.inv.emit("llm_called", {"step": self.budget.steps, "kind": kind, "tokens_in": tokens_in,
                                     "tokens_out": tokens_out, "tool_calls": calls})
        self.conv.model_replied(ai)
        return ai

    async def _resize(self, exc: Exception, schemas: list[dict[str, Any]]) -> bool:
        """On the first "prompt too long" error: learn the window, shorten, and say whether to resend."""
        window = context_window_from_error(str(exc)) if getattr(exc, "status_code", 400) == 400 else None
        if window is None or self.resized or window <= self.cfg.max_output_tokens:
            return False
        self.resized, self.window = True, window
        self.notes.append(f"The server's context window is {window} tokens (learnt from its first error); "
                          "requests were shortened to fit.")
        return self.conv.fit(schemas, window, self.cfg.max_output_tokens) is None

    async def _learn_window(self) -> None:
        base_url = getattr(self.cfg.model, "openai_api_base", None)
        if self.window is not None or not self.cfg.probe_context or not isinstance(base_url, str):
            return
        key = getattr(self.cfg.model, "openai_api_key", None)
        secret = key.get_secret_value() if isinstance(key, SecretStr) else None
        self.window = await probe_context_window(base_url, self.cfg.model_label, api_key=secret)

    def _model_failed(self, kind: str, error: str, started: float, estimate: int, *,
                      sent: bool = True) -> AIMessage | None:
        self.failure = redact(error)[:ERROR_CHARS]
        self.inv.add_step("llm", f"{self.cfg.model_label}:{kind}", error=self.failure, tokens_in=0,
                          seconds=time.perf_counter() - started,
                          summary=f"request of ~{estimate} tokens " + ("failed" if sent else "not sent"))
        what = "the model call failed" if sent else "the model was not asked"
        self.inv.add_gap("llm", f"{what} ({kind}): {self.failure}")
        self.inv.emit("error", {"message": self.failure})
        return None

    # ------------------------------------------------------------------ tools
    async def _run_tools(self, ai: AIMessage) -> None:
        for bad in ai.invalid_tool_calls:
            name = bad.get("name") or "?"
            self.conv.control(bad.get("id") or "invalid", name,
                              f"ERROR: {bad.get('error') or f'invalid arguments for {name}'}. "
                              "Call it again with a JSON object that matches its schema.")
        for call in ai.tool_calls:
            call_id = call["id"] or call["name"]
            control, text, summary = await self._tool_result(call["name"], call["args"], len(ai.tool_calls))
            if control:
                self.conv.control(call_id, call["name"], text)
            else:
                self.conv.tool_result(call_id, call["name"], text, summary)

    async def _tool_result(self, name: str, args: dict[str, Any], calls: int) -> tuple[bool, str, str | None]:
        """(is day2ai's own control message, text, shortened form for later requests)."""
        if self.loops.reason:
            return True, f"Not executed: {self.loops.reason}.", None
        tool = self.tools.get(name)
        if tool is None:
            return True, f"ERROR: there is no tool named {name!r}; available: {', '.join(sorted(self.tools))}.", None
        schema = tool.args_schema if isinstance(tool.args_schema, type) and issubclass(tool.args_schema, BaseModel) \
            else None
        verdict = self.loops.observe(name, args, schema)
        key = call_key(name, args, schema)
        if verdict == "stop":
            return True, f"Not executed: {self.loops.reason}. You must conclude now.", None
        if verdict == "repeat":
            ids = ", ".join(self.results.get(key, [])) or "none"
            return True, (f"Not executed: you already made this call (same arguments once defaults are "
                          f"filled in; its evidence: {ids}). Use different arguments, another tool, or submit "
                          "your answer."), None
        room = self.conv.room_for_result(self.step_schemas, self.window, self.cfg.max_output_tokens, calls)
        self.inv.tool_token_cap = min(self.cfg.tool_token_cap, room) if room else self.cfg.tool_token_cap
        before = len(self.inv.evidence)
        try:
            text = str(await tool.ainvoke(args))
        finally:
            self.inv.tool_token_cap = self.cfg.tool_token_cap
        found = self.inv.evidence[before:]
        self.results[key] = [e.id for e in found]
        lines = [f"[{e.id}] {e.summary[:SUMMARY_CHARS]}" for e in found[:SUMMARY_LINES]]
        if len(found) > SUMMARY_LINES:
            lines.append(f"(and {', '.join(e.id for e in found[SUMMARY_LINES:])})")
        summary = "\n".join(lines) if lines else truncate_to_tokens(text, 60)
        return False, text, summary

    # ------------------------------------------------------------------ messages
    def _open(self, dossier: str) -> None:
        inc = self.inv.incident
        boundary = self.conv.boundary
        system = render(f"investigate.{PROMPT_VERSION}.system", boundary=boundary, submit_tool=SUBMIT_TOOL,
                        max_steps=self.cfg.limits.max_steps, max_hypotheses=self.cfg.max_hypotheses,
                        faults=[f.value for f in Fault])
        lines = [f"title: {inc.title}"]
        if inc.symptom.description:
            lines.append(f"symptom: {inc.symptom.description}")
        if inc.alert:
            lines.append(f"alert: {inc.alert.name} {inc.alert.labels}")
        incident_text = fence("incident", "\n".join(lines), boundary)
        gaps = [f"{g.source}: {g.reason}" for g in self.inv.gaps]

        def user(text: str, brief: bool) -> str:  # brief: once read, the gaps are in the short dossier's past
            return render(f"investigate.{PROMPT_VERSION}.user", incident_id=inc.id,
                          detected_at=inc.detected_at.isoformat(), window_start=inc.window.start.isoformat(),
                          window_end=inc.window.end.isoformat(), symptom_service=inc.symptom.service,
                          gaps=[] if brief else gaps, brief=brief,
                          incident=incident_text, triage=fence("triage dossier (offline analysis)", text, boundary))

        self.conv.open(SystemMessage(system), dossier, user)

    def _reply(self, ai: AIMessage, text: str) -> None:
        """Answer the model's last turn: tool messages for its calls (if any), else a user message."""
        calls = [(c["id"], c["name"]) for c in ai.tool_calls]
        calls += [(c.get("id"), c.get("name") or "?") for c in ai.invalid_tool_calls]
        if not calls:
            self.conv.add(HumanMessage(text))
        for call_id, name in calls:
            self.conv.control(call_id or "invalid", name, text)

    # ------------------------------------------------------------------ answer
    def _read(self, ai: AIMessage) -> tuple[FinalAnswer | None, list[str]]:
        payload, problem = answer_payload(ai)
        if problem is None and payload is None:
            problem = f"you did not submit an answer (call {SUBMIT_TOOL} or reply with only the JSON object)"
        if problem is not None or payload is None:
            self.answer_problem = _short(problem or "no answer")
            return None, [self.answer_problem]
        try:
            answer = parse_answer(payload)
        except AnswerError as exc:
            self.answer_problem = _short(str(exc))
            return None, [self.answer_problem]
        problems = [_short(p) for p in ground(answer, self._ids(), limit=self.cfg.max_hypotheses).problems]
        self.answer_problem = problems[0] if problems else None
        return answer, problems

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
            self.notes.append(_short(f"The offline triage failed ({type(exc).__name__}: {exc}); "
                                     "the model started from scratch."))
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
        """The triage's hypotheses; the reason is stated once in gaps (the CLI prints each gap on
        stderr) and first in notes."""
        why = self.failure or (f"the model gave no usable answer ({self.answer_problem})" if self.answer_problem
                               else "the model gave no grounded answer")
        if self.failure is None:
            self.inv.add_gap("llm", f"model answer not used: {why}")
        if triage is None or not triage.hypotheses:
            self.notes.insert(0, f"No hypotheses: {why}, and no triage hypotheses were available.")
            return []
        self.notes.insert(0, f"Offline fallback: the hypotheses are the offline triage's ({why}).")
        log.info("%s: model answer not used, the hypotheses are the offline triage's: %s", self.cfg.name, why)
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


def _compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool schema as small as the model can still use (it is sent with every step): the
    description cut to its first sentence; per parameter only its type (and enum/items), no
    title or default (the tool fills them in), and a short description for text parameters only
    (numbers and flags are named well enough: ``limit``, ``errors_only``)."""
    function = dict(schema["function"])
    function["description"] = _first_sentence(str(function.get("description", "")), 90)
    params = function.get("parameters")
    if isinstance(params, dict) and isinstance(params.get("properties"), dict):
        props = {k: _compact_param(v) if isinstance(v, dict) else v for k, v in params["properties"].items()}
        function["parameters"] = {"type": "object", "properties": props,
                                  **({"required": params["required"]} if params.get("required") else {})}
    return {"type": "function", "function": function}


def _compact_param(spec: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: spec[k] for k in ("type", "enum", "items", "anyOf") if k in spec}
    text = str(spec.get("description") or "")
    if kept.get("type") == "string" and text:
        kept["description"] = _first_sentence(text, 120 if text.startswith("one of") else 50)
    return kept


def _first_sentence(text: str, limit: int) -> str:
    """The first sentence in plain quoting, cut to ``limit`` characters at the last clause
    (", " or " (") when that keeps at least half of it, else at a word."""
    first = " ".join(text.replace("``", "").split()).split(". ")[0].rstrip(".")
    if len(first) <= limit:
        return first
    head = first[:limit]
    clause = max(head.rfind(", "), head.rfind(" ("))
    cut = head[:clause] if clause >= limit // 2 else head.rsplit(" ", 1)[0]
    if cut.count("(") > cut.count(")"):  # no half parenthesis
        cut = cut[: cut.rindex("(")]
    return cut.rstrip(" ,;:")


def _short(text: str, limit: int = ERROR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
