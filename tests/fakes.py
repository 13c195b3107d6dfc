"""THE scriptable fake chat model shared by all tests (never calls a real API).

``ScriptedChatModel(script=[...])`` answers each call with the next entry of its script:

* an ``AIMessage`` (use :func:`tool_calls` / :func:`submit` / :func:`text` to build them),
* a ``str`` (a plain text reply),
* a callable ``(messages, tools) -> AIMessage | str`` (a policy that reads the conversation),
* an ``Exception`` instance (raised, as an HTTP failure after the client's retries would be).

When the script runs out, ``then`` (an entry of the same kinds) answers every further call, or
the model raises :class:`ScriptExhausted`. It supports ``bind_tools`` and records every request
(messages, tool schemas and ``tool_choice``). Its ``usage_metadata`` is counted with the same tiktoken function the
investigator uses (``day2ai.agent.budget.count_request_tokens``), so token accounting in tests
and benchmarks is what a real endpoint would be sent.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from day2ai.agent.budget import count_request_tokens
from day2ai.tokens import count_tokens

Policy = Callable[[list[BaseMessage], list[dict[str, Any]]], "AIMessage | str"]
Entry = AIMessage | str | Policy | Exception

_ids = itertools.count(1)


class ScriptExhausted(RuntimeError):
    pass


def tool_calls(*calls: tuple[str, dict[str, Any]], content: str = "") -> AIMessage:
    """An assistant turn calling tools: ``tool_calls(("get_logs", {"service": "db"}))``."""
    return AIMessage(content=content, tool_calls=[
        {"name": name, "args": args, "id": f"call_{next(_ids)}", "type": "tool_call"} for name, args in calls
    ])


def call(name: str, **args: Any) -> AIMessage:
    return tool_calls((name, args))


def hypothesis(service: str, fault: str, evidence: Sequence[str], confidence: float = 0.7,
               summary: str | None = None, remediation: Sequence[str] = ()) -> dict[str, Any]:
    return {"service": service, "fault": fault, "confidence": confidence,
            "summary": summary or f"{fault} in {service}", "evidence": list(evidence),
            "remediation": list(remediation)}


def submit(*hypotheses: dict[str, Any]) -> AIMessage:
    """An assistant turn calling ``submit_hypotheses``."""
    return call("submit_hypotheses", hypotheses=list(hypotheses))


def text(*hypotheses: dict[str, Any], prose: str = "Here is my answer:") -> AIMessage:
    """An assistant turn answering with a JSON object in text."""
    return AIMessage(content=f"{prose}\n```json\n{json.dumps({'hypotheses': list(hypotheses)})}\n```")


def message_text(message: BaseMessage) -> str:
    content = message.content
    return content if isinstance(content, str) else json.dumps(content)


class ScriptedChatModel(BaseChatModel):
    script: list[Any] = Field(default_factory=list)
    then: Any = None
    model_name: str = "scripted"
    requests: list[dict[str, Any]] = Field(default_factory=list)
    position: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _next_entry(self) -> AIMessage | str | Policy | Exception:
        if self.position < len(self.script):
            entry = self.script[self.position]
            self.position += 1
            return entry  # type: ignore[no-any-return]
        if self.then is not None:
            return self.then  # type: ignore[no-any-return]
        raise ScriptExhausted(f"the script has only {len(self.script)} entries")

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[dict[str, Any]] = list(kwargs.get("tools") or [])
        self.requests.append({"messages": list(messages), "tools": tools, "tool_choice": kwargs.get("tool_choice")})
        entry = self._next_entry()
        if isinstance(entry, Exception):
            raise entry
        reply: AIMessage | str = entry if isinstance(entry, AIMessage | str) else entry(list(messages), tools)
        message = AIMessage(content=reply) if isinstance(reply, str) else reply.model_copy(deep=True)
        tokens_in = count_request_tokens(messages, tools)
        tokens_out = count_tokens(message_text(message)) + sum(
            count_tokens(c["name"]) + count_tokens(json.dumps(c["args"])) for c in message.tool_calls)
        message.usage_metadata = {"input_tokens": tokens_in, "output_tokens": tokens_out,
                                  "total_tokens": tokens_in + tokens_out}
        return ChatResult(generations=[ChatGeneration(message=message)])

    def request_texts(self) -> list[str]:
        """Every request flattened to text (all message contents and tool-call arguments)."""
        out = []
        for req in self.requests:
            parts = []
            for m in req["messages"]:
                parts.append(message_text(m))
                parts.extend(json.dumps(c["args"]) for c in getattr(m, "tool_calls", []))
            out.append("\n".join(parts))
        return out
