"""Build a chat model for any OpenAI-compatible endpoint: OpenAI, Azure OpenAI (v1 API), vLLM,
Ollama, LiteLLM and other gateways. Needs the ``llm`` extra (langchain-openai).

Retries live in exactly one layer: the openai client's own (``max_retries``). It already retries
connection errors, 408/409/429 and 5xx with exponential backoff and jitter, and it honours the
server's ``Retry-After``/``retry-after-ms``; wrapping it in tenacity too would multiply attempts
(3 x 3) and ignore ``Retry-After``. It also retries timeouts, which against a local single-slot
server (llama.cpp, Ollama) only queues more work behind the abandoned request; so with a custom
``base_url`` the default is no retry at all. The investigator does not retry a failed call: it
falls back to the offline triage and says so in the report.

The model is a :class:`~day2ai.agent.openai_compat.CompatChatOpenAI`: its requests never carry an
assistant ``content: null`` and, for a custom ``base_url``, cap output with ``max_tokens``.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models import BaseChatModel

from day2ai.errors import ConfigError

API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3  # the public OpenAI API; a custom base_url gets 0 unless told otherwise
DEFAULT_MAX_OUTPUT_TOKENS = 1024  # per reply: a weak model must not generate junk without end
# Local servers (vLLM, Ollama) accept any key, but the openai client insists on one.
LOCAL_PLACEHOLDER_KEY = "not-needed"


def chat_model(
    name: str,
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retries: int | None = None,
    temperature: float | None = 0.0,
    max_output_tokens: int | None = DEFAULT_MAX_OUTPUT_TOKENS,
    **extra: Any,
) -> BaseChatModel:
    """A ``ChatOpenAI`` for ``name`` at ``base_url`` (default: OpenAI), key from ``OPENAI_API_KEY``.

    Without a key: an error for the public OpenAI API, a placeholder for a custom ``base_url``.
    ``max_retries`` defaults to 3 for the OpenAI API and 0 for a custom ``base_url`` (see above);
    ``max_output_tokens`` caps every reply (``max_tokens`` on the wire for a custom ``base_url``).
    """
    if not name.strip():
        raise ConfigError("--model: a model name is required (e.g. gpt-4o-mini)")
    if timeout_s <= 0:
        raise ConfigError(f"--timeout must be positive, got {timeout_s:g}")
    try:
        from day2ai.agent.openai_compat import CompatChatOpenAI
    except ImportError as exc:
        raise ConfigError("a chat model needs the llm extra: pip install 'day2ai[llm]'") from exc
    key = api_key or os.environ.get(API_KEY_ENV)
    if not key:
        if base_url is None:
            raise ConfigError(f"{API_KEY_ENV} is not set (needed for the OpenAI API; "
                              "use --base-url for a local server)")
        key = LOCAL_PLACEHOLDER_KEY
    retries = max_retries if max_retries is not None else (DEFAULT_MAX_RETRIES if base_url is None else 0)
    model: BaseChatModel = CompatChatOpenAI(
        model=name,
        base_url=base_url,
        api_key=key,
        timeout=timeout_s,
        max_retries=retries,
        temperature=temperature,
        max_completion_tokens=max_output_tokens,
        legacy_max_tokens=base_url is not None,
        **extra,
    )
    return model


def model_name(model: BaseChatModel) -> str:
    """The model's name as configured (``gpt-4o-mini``), else its LangChain type."""
    for attr in ("model_name", "model", "model_id", "deployment_name"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return model._llm_type
