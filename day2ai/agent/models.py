"""Build a chat model for any OpenAI-compatible endpoint: OpenAI, Azure OpenAI (v1 API), vLLM,
Ollama, LiteLLM and other gateways. Needs the ``llm`` extra (langchain-openai).

Retries live in exactly one layer: the openai client's own (``max_retries``). It already retries
connection errors, 408/409/429 and 5xx with exponential backoff and jitter, and it honours the
server's ``Retry-After``/``retry-after-ms``; wrapping it in tenacity too would multiply attempts
(3 x 3) and ignore ``Retry-After``. The investigator does not retry a failed call: it falls back to
the offline triage and says so in the report.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models import BaseChatModel

from day2ai.errors import ConfigError

API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
# Local servers (vLLM, Ollama) accept any key, but the openai client insists on one.
LOCAL_PLACEHOLDER_KEY = "not-needed"


def chat_model(
    name: str,
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
    temperature: float | None = 0.0,
    **extra: Any,
) -> BaseChatModel:
    """A ``ChatOpenAI`` for ``name`` at ``base_url`` (default: OpenAI), key from ``OPENAI_API_KEY``.

    Without a key: an error for the public OpenAI API, a placeholder for a custom ``base_url``.
    """
    if not name.strip():
        raise ConfigError("--model: a model name is required (e.g. gpt-4o-mini)")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ConfigError("a chat model needs the llm extra: pip install 'day2ai[llm]'") from exc
    key = api_key or os.environ.get(API_KEY_ENV)
    if not key:
        if base_url is None:
            raise ConfigError(f"{API_KEY_ENV} is not set (needed for the OpenAI API; "
                              "use --base-url for a local server)")
        key = LOCAL_PLACEHOLDER_KEY
    model: BaseChatModel = ChatOpenAI(
        model=name,
        base_url=base_url,
        api_key=key,
        timeout=timeout_s,
        max_retries=max_retries,
        temperature=temperature,
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
