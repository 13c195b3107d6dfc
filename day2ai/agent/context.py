"""The conversation sent to the model, kept small and within the server's context window.

* Every non-model message is redacted in one place (:meth:`Conversation.add`).
* Untrusted text (incident, triage dossier, tool output) is fenced; day2ai's own control
  messages ("Not executed: ...", "ERROR: no tool named ...") are not, so the model may obey them.
* Frugal: the full triage dossier is sent with the first request only, then shortened to its
  head (the ranked candidates with their evidence ids); a tool result the model has answered is
  replaced by a fenced one-line-per-evidence summary (ids and summaries only).
* Fitting: :meth:`Conversation.fit` makes a request fit ``window`` tokens (with a safety margin
  for the server's own tokenizer and chat template) by shortening what is already used, then the
  dossier; it says so if it still cannot fit, and the request is then not sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from day2ai.agent.budget import count_request_tokens
from day2ai.prompts import fence
from day2ai.redact import redact
from day2ai.tokens import count_tokens, truncate_to_tokens

SAFETY = 1.25  # tiktoken vs the server's tokenizer and chat-template framing of tools
DOSSIER_AFTER_FIRST = 170  # tokens of the dossier kept once the model has read it in full
MIN_DOSSIER = 120
_M = TypeVar("_M", bound=BaseMessage)


def shorten_dossier(dossier: str, tokens: int, per_candidate: int = 1, line_chars: int = 90) -> str:
    """The dossier's ranked candidates (from its "Ranked hypotheses"/"Candidates" line on) with
    their first evidence lines cut short, within ``tokens``; its head if it has no such section."""
    if count_tokens(dossier) <= tokens:
        return dossier
    lines = dossier.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(r"\s*(Ranked hypotheses|.*Candidates)", ln)), None)
    if start is None:
        return truncate_to_tokens(dossier, tokens)
    kept: list[str] = [lines[start]]
    shown = 0
    for line in lines[start + 1:]:
        if re.match(r"\s*\d+\.\s", line):
            shown = 0
            kept.append(line[:130])
        elif line.lstrip().startswith(("+", "-", "e")) and shown < per_candidate:
            shown += 1
            kept.append(line[:line_chars])
    return truncate_to_tokens("\n".join(kept), tokens)


def prompt_room(window: int, reserve_out: int) -> int:
    """How many (tiktoken) tokens a request may have for ``window`` with ``reserve_out`` for the reply."""
    return max(0, int((window - reserve_out) / SAFETY))


@dataclass
class _Pending:
    message: ToolMessage
    summary: str


@dataclass
class Conversation:
    """The messages of one investigation, with the dossier and used tool results shortened."""

    boundary: str
    messages: list[BaseMessage] = field(default_factory=list)
    dossier: str = ""
    dossier_tokens: int | None = None  # None: in full
    render_user: Callable[[str, bool], str] | None = None  # (dossier, brief)
    user: HumanMessage | None = None
    pending: list[_Pending] = field(default_factory=list)  # tool results not yet answered
    seen: list[_Pending] = field(default_factory=list)  # answered: shortened on the next request

    def add(self, message: BaseMessage) -> None:
        """Append a message for the model; the ONE place where text is redacted on its way out."""
        if not isinstance(message, AIMessage) and isinstance(message.content, str):
            message.content = redact(message.content)
        self.messages.append(message)

    def open(self, system: BaseMessage, dossier: str, render_user: Callable[[str, bool], str]) -> None:
        self.dossier, self.render_user = dossier, render_user
        self.add(system)
        self.user = HumanMessage(render_user(dossier, False))
        self.add(self.user)

    def tool_result(self, call_id: str, name: str, text: str, summary: str | None) -> None:
        """A tool's output, fenced; ``summary`` (fenced too) replaces it once the model answered."""
        message = ToolMessage(fence(f"tool:{name} result", text, self.boundary), tool_call_id=call_id, name=name)
        self.add(message)
        if summary is not None:
            self.pending.append(_Pending(message, fence(f"tool:{name} result, shortened", summary, self.boundary)))

    def control(self, call_id: str, name: str, text: str) -> None:
        """day2ai's own answer to a call (not executed, unknown tool, bad arguments): not fenced."""
        self.add(ToolMessage(text, tool_call_id=call_id, name=name))

    def model_replied(self, ai: AIMessage) -> None:
        self.messages.append(ai)
        self.seen.extend(self.pending)
        self.pending.clear()

    # ------------------------------------------------------------------ frugality
    def shorten_used(self) -> None:
        """Before a request: shorten the dossier (after the first request) and answered tool results."""
        if len(self.messages) > 2 and self.dossier_tokens is None:
            self.set_dossier(DOSSIER_AFTER_FIRST)
        for item in self.seen:
            self._replace(item.message, item.summary)
        self.seen.clear()

    def set_dossier(self, tokens: int) -> None:
        if self.user is None or self.render_user is None:
            return
        if self.dossier_tokens is not None and tokens >= self.dossier_tokens:
            return
        self.dossier_tokens = tokens
        self.user = self._replace(self.user, self.render_user(shorten_dossier(self.dossier, tokens), True))

    def _replace(self, message: _M, content: str) -> _M:
        """Swap ``message`` for a copy with ``content`` (earlier requests keep what they sent)."""
        new = message.model_copy(update={"content": redact(content)})
        self.messages = [new if m is message else m for m in self.messages]
        return new

    # ------------------------------------------------------------------ fitting
    def tokens(self, schemas: Sequence[dict[str, Any]]) -> int:
        return count_request_tokens(self.messages, schemas)

    def fit(self, schemas: Sequence[dict[str, Any]], window: int | None, reserve_out: int) -> str | None:
        """Shorten until the request fits ``window``; None if it fits, else why it cannot."""
        self.shorten_used()
        if window is None:
            return None
        room = prompt_room(window, reserve_out)
        need = self.tokens(schemas)
        if need <= room:
            return None
        for item in self.pending:  # shorten unanswered results too
            self._replace(item.message, item.summary)
        self.pending.clear()
        need = self.tokens(schemas)
        if need > room and self.user is not None:
            current = self.dossier_tokens or count_tokens(self.dossier)
            self.set_dossier(max(MIN_DOSSIER, current - (need - room) - 20))
            need = self.tokens(schemas)
        if need <= room:
            return None
        return (f"the request (~{need} tokens, ~{int(need * SAFETY)} as the server counts) does not fit the "
                f"context window of {window} tokens with {reserve_out} reserved for the reply")

    def room_for_result(self, schemas: Sequence[dict[str, Any]], window: int | None, reserve_out: int,
                        calls: int) -> int | None:
        """Tokens one of ``calls`` pending tool results may take, or None without a known window."""
        if window is None:
            return None
        free = prompt_room(window, reserve_out) - self.tokens(schemas)
        return max(60, free // max(1, calls) - 40)
