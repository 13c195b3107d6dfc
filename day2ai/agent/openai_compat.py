"""A ``ChatOpenAI`` whose request bodies real OpenAI-compatible servers accept (llama.cpp, vLLM,
Ollama): no assistant message with ``content: null`` (llama-cpp-python answers HTTP 500), and
the output cap sent as ``max_tokens`` (llama.cpp ignores ``max_completion_tokens``, which
LangChain sends). Needs the ``llm`` extra; imported only by :func:`day2ai.agent.models.chat_model`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_openai import ChatOpenAI


class CompatChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` with request bodies that local OpenAI-compatible servers accept."""

    legacy_max_tokens: bool = True  # send max_tokens (local servers); False: max_completion_tokens

    def _get_request_payload(self, input_: LanguageModelInput, *, stop: list[str] | None = None,
                             **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        return compat_payload(payload, legacy_max_tokens=self.legacy_max_tokens)


def compat_payload(payload: dict[str, Any], *, legacy_max_tokens: bool) -> dict[str, Any]:
    """``content: null`` -> ``""`` in every message; the output cap as ``max_tokens`` if asked."""
    for message in payload.get("messages", []):
        if isinstance(message, dict) and "content" in message and message["content"] is None:
            message["content"] = ""
    if legacy_max_tokens and "max_completion_tokens" in payload:
        payload["max_tokens"] = payload.pop("max_completion_tokens")
    return payload
