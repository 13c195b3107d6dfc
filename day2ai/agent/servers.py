"""Facts about the model server learnt at run time, and its errors made readable.

* :func:`probe_context_window`: the server's context window from its metadata, where it has any
  (vLLM's ``max_model_len``, llama.cpp's ``/props`` or ``meta.n_ctx``); llama-cpp-python and
  Ollama report none, so the window is then learnt from the first "too long" error.
* :func:`context_window_from_error`: the window named in a "too many tokens" HTTP 400.
* :func:`short_error`: a one-line reason for the report, not the server's 2 KB validation dump.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ERROR_CHARS = 240  # the most of a server's error message that a note or gap carries


_WINDOW_PATTERNS = (
    re.compile(r"maximum context length is (\d+)", re.IGNORECASE),  # OpenAI, vLLM, llama-cpp-python
    re.compile(r"context window of (\d+)", re.IGNORECASE),  # llama-cpp-python's raw ValueError
    re.compile(r"context(?: size| length| window)?\D{0,12}?(\d+)\s*<\s*\d+", re.IGNORECASE),  # "context 2048 < 2462"
    re.compile(r"n_ctx(?:_slot)?\D{0,6}(\d+)", re.IGNORECASE),  # llama.cpp's server
)


def context_window_from_error(message: str) -> int | None:
    """The context window named by a server's "prompt too long" error, or None."""
    for pattern in _WINDOW_PATTERNS:
        m = pattern.search(message)
        if m and int(m.group(1)) > 0:
            return int(m.group(1))
    return None


def short_error(exc: BaseException, limit: int = ERROR_CHARS) -> str:
    """``ClassName: message`` on one line, the server's own message preferred, cut to ``limit``."""
    body = getattr(exc, "body", None)
    message = ""
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = str(inner.get("message", "")) if isinstance(inner, dict) else str(inner)
        if not message and "detail" in body:
            message = json.dumps(body["detail"])[:limit]
    status = getattr(exc, "status_code", None)
    text = " ".join((message or str(exc)).split())
    head = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    out = f"{head}: {text}" if text else head
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _root(base_url: str) -> str:
    parts = urlsplit(base_url.rstrip("/"))
    path = parts.path[: -len("/v1")] if parts.path.endswith("/v1") else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _window_in(data: Any, model: str) -> int | None:
    """vLLM: data[].max_model_len; llama.cpp: data[].meta.n_ctx(_train); /props: n_ctx."""
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    if isinstance(settings, dict) and isinstance(settings.get("n_ctx"), int):
        return int(settings["n_ctx"])
    if isinstance(data.get("n_ctx"), int):
        return int(data["n_ctx"])
    entries = [e for e in data.get("data") or [] if isinstance(e, dict)]
    chosen = [e for e in entries if e.get("id") == model] or entries[:1]
    for entry in chosen:
        for key in ("max_model_len", "context_length", "context_window"):
            if isinstance(entry.get(key), int):
                return int(entry[key])
        meta = entry.get("meta")
        if isinstance(meta, dict):
            for key in ("n_ctx", "n_ctx_train"):
                if isinstance(meta.get(key), int):
                    return int(meta[key])
    return None


async def probe_context_window(base_url: str, model: str, *, timeout_s: float = 5.0,
                               api_key: str | None = None) -> int | None:
    """The context window the server at ``base_url`` reports, or None if it reports none.

    Asks ``/v1/models`` and ``/props`` (cheap metadata requests, no generation). Failures are
    not errors: the window is then learnt from the first "too long" error, if any.
    """
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    urls = [base_url.rstrip("/") + "/models", _root(base_url) + "/props"]
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as client:
        for url in urls:
            try:
                response = await client.get(url)
                if response.status_code != 200:
                    continue
                window = _window_in(response.json(), model)
            except (httpx.HTTPError, ValueError):
                continue
            if window:
                return window
    return None
