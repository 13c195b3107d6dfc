"""Limits of an LLM investigation: steps, tokens, wall-clock time, and loops.

Tokens are counted with tiktoken (offline, :mod:`day2ai.tokens`) over what a chat-completions
request carries: every message (role, content, tool calls) plus the tool schemas. The same count
is used before a call (will the next request fit?) and by the fake model in tests, so the
scripted benchmark measures what a real endpoint would be sent.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from pydantic import BaseModel, ValidationError

from day2ai.errors import ConfigError
from day2ai.tokens import count_tokens

# Per-message framing of the chat format (role and separators), as in OpenAI's counting recipe.
MESSAGE_OVERHEAD = 4
REQUEST_OVERHEAD = 3


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "\n".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content)
    return str(content)


def count_message_tokens(message: BaseMessage) -> int:
    tokens = MESSAGE_OVERHEAD + count_tokens(message.type) + count_tokens(_content_text(message.content))
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            tokens += count_tokens(call["name"]) + count_tokens(json.dumps(call["args"], sort_keys=True))
    if isinstance(message, ToolMessage):
        tokens += count_tokens(message.tool_call_id)
    return tokens


def count_request_tokens(messages: Sequence[BaseMessage], tool_schemas: Sequence[dict[str, Any]] = ()) -> int:
    """Tokens of one chat request: messages plus the JSON of the tool schemas."""
    tokens = REQUEST_OVERHEAD + sum(count_message_tokens(m) for m in messages)
    if tool_schemas:
        tokens += count_tokens(json.dumps(list(tool_schemas), separators=(",", ":"), sort_keys=True))
    return tokens


@dataclass(frozen=True)
class Limits:
    """The limits of one investigation. ``token_budget`` counts tokens sent plus received."""

    max_steps: int = 8
    token_budget: int = 40_000
    deadline_s: float = 180.0
    max_repeats: int = 2  # identical calls answered from memory before the run is stopped
    explore_share: float = 0.6  # of deadline_s for exploring; the rest is for concluding

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.token_budget < 1 or self.deadline_s <= 0 or self.max_repeats < 0:
            raise ConfigError(f"invalid limits: {self}")


@dataclass
class Budget:
    """Spending against :class:`Limits`; ``exhausted`` names the first limit that ran out."""

    limits: Limits
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    tokens: int = 0

    def charge(self, tokens_in: int, tokens_out: int) -> None:
        self.tokens += tokens_in + tokens_out

    def remaining_seconds(self) -> float:
        return self.limits.deadline_s - (time.monotonic() - self.started)

    def explore_seconds(self) -> float:
        """Seconds left for exploring: the concluding requests get the rest of the deadline."""
        return self.limits.deadline_s * self.limits.explore_share - (time.monotonic() - self.started)

    def exhausted(self, next_request_tokens: int = 0) -> str | None:
        """Why no further exploration step may start, or None."""
        if self.steps >= self.limits.max_steps:
            return f"the step limit ({self.limits.max_steps}) was reached"
        if self.tokens + next_request_tokens > self.limits.token_budget:
            return f"the token budget ({self.limits.token_budget}) would be exceeded"
        if self.explore_seconds() <= 0:
            share = self.limits.deadline_s * self.limits.explore_share
            return f"the time limit for exploring ({share:g} s of {self.limits.deadline_s:g} s) was reached"
        return None


Verdict = Literal["ok", "repeat", "stop"]


def canonical_args(args: dict[str, Any], schema: type[BaseModel] | None) -> dict[str, Any]:
    """The arguments with the tool's defaults filled in (``{}`` and ``{"limit": 10}`` are the same
    call when 10 is the default); unchanged if they do not validate."""
    if schema is None:
        return args
    try:
        full: dict[str, Any] = schema.model_validate(args).model_dump(mode="json")
    except ValidationError:
        return args
    return full


def call_key(name: str, args: dict[str, Any], schema: type[BaseModel] | None = None) -> str:
    """Canonical form of a tool call: name plus arguments (defaults filled in from ``schema``)
    with normalised strings."""
    args = canonical_args(args, schema)

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return " ".join(value.lower().split())
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, dict):
            return {k: norm(v) for k, v in sorted(value.items())}
        return value

    return name + json.dumps(norm(args), sort_keys=True, default=str)


@dataclass
class LoopDetector:
    """Spots a model going round in circles.

    * repeat: a call identical (after normalisation) to an earlier one. It is not executed again;
      the model gets the earlier result back with a nudge. After ``max_repeats`` repeats: stop.
    * ping-pong: the last four calls alternate between two distinct calls (A B A B): stop.
    """

    max_repeats: int = 2
    history: list[str] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)
    repeats: int = 0
    reason: str | None = None

    def observe(self, name: str, args: dict[str, Any], schema: type[BaseModel] | None = None) -> Verdict:
        key = call_key(name, args, schema)
        self.history.append(key)
        self.seen[key] += 1
        if self._ping_pong():
            self.reason = "the model alternated between the same two tool calls"
            return "stop"
        if self.seen[key] > 1:
            self.repeats += 1
            if self.repeats > self.max_repeats:
                self.reason = f"the model repeated identical tool calls {self.repeats} times"
                return "stop"
            return "repeat"
        return "ok"

    def _ping_pong(self) -> bool:
        if len(self.history) < 4:
            return False
        a, b, c, d = self.history[-4:]
        return a == c and b == d and a != b
