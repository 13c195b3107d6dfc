"""The one HTTP layer every telemetry backend uses: httpx + tenacity.

:class:`HttpClient` adds what talking to production backends needs and nothing else:

- explicit connect/read timeouts and an overall deadline per request (retries included);
- bearer, basic or mTLS authentication (:class:`HttpAuth`), secrets held as ``SecretStr``;
- retries with exponential backoff on timeouts, connection errors and HTTP 429/5xx, honouring
  ``Retry-After`` (seconds or an HTTP date, capped);
- a response size cap enforced while streaming (a 50 MB body is cut off after the cap, not read);
- every failure translated into :class:`~day2ai.errors.SourceError` (bad answer) or
  :class:`~day2ai.errors.SourceUnavailable` (could not get an answer), with messages that name
  the backend and the path but never a credential (secrets are scrubbed from any text that
  reaches a message or a log line, including error bodies that echo request headers).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import logging
import random
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer, field_validator
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from day2ai.errors import ConfigError, SourceError, SourceUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The whole investigation's deadline (monotonic seconds, and the total for messages): every request
# made while it is set gets at most the time left, so N hanging backends cannot add up N deadlines.
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("day2ai_deadline", default=None)


_PROCESS_DEADLINE: list[tuple[float, float]] = []  # the same, for every thread of this process


@contextlib.contextmanager
def overall_deadline(seconds: float | None, *, process_wide: bool = False) -> Iterator[None]:
    """Within this block (and the tasks started in it), no request outlives ``seconds`` from now.

    ``process_wide``: also for requests made from other threads and loops (whose context does not
    inherit this one), as when a CLI process runs one investigation with a worker thread.
    """
    if seconds is None:
        yield
        return
    value = (time.monotonic() + seconds, seconds)
    token = _DEADLINE.set(value)
    if process_wide:
        _PROCESS_DEADLINE.append(value)
    try:
        yield
    finally:
        _DEADLINE.reset(token)
        if process_wide:
            _PROCESS_DEADLINE.remove(value)


def _time_left(own: float) -> tuple[float, str]:
    """Seconds this request may take, and how to name the limit if it runs out."""
    overall = _DEADLINE.get() or (_PROCESS_DEADLINE[-1] if _PROCESS_DEADLINE else None)
    own_text = f"the request deadline of {own:g} s"
    if overall is None:
        return own, own_text
    left = overall[0] - time.monotonic()
    if left < own:
        return max(0.0, left), f"the investigation deadline of {overall[1]:g} s"
    return own, own_text
REDACTED = "<redacted>"
_SENSITIVE_HEADER = re.compile(r"auth|key|token|secret|password|cookie|session", re.IGNORECASE)


def sensitive_header(name: str) -> bool:
    """Whether a header's value is a credential (``Authorization``, ``X-API-Key``, ``Cookie``...)."""
    return bool(_SENSITIVE_HEADER.search(name))


class HttpAuth(BaseModel):
    """How to authenticate: a bearer token, a basic user/password, and/or a client certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bearer_token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def secrets(self) -> list[str]:
        """Every secret string, and the encodings of it that could appear on the wire."""
        out: list[str] = []
        if self.bearer_token is not None:
            out.append(self.bearer_token.get_secret_value())
        if self.password is not None:
            pw = self.password.get_secret_value()
            out.append(pw)
            if self.username is not None:
                out.append(base64.b64encode(f"{self.username}:{pw}".encode()).decode())
        return [s for s in out if s]


class HttpSettings(BaseModel):
    """Connection settings of one backend (one ``url`` and its limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    auth: HttpAuth = Field(default_factory=HttpAuth)
    headers: dict[str, str] = Field(default_factory=dict)
    ca_file: str | None = None
    verify_tls: bool = True
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    deadline: float = Field(default=60.0, gt=0, description="seconds for one request, retries included")
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=0.5, ge=0, description="first backoff in seconds, doubled per retry")
    max_retry_after: float = Field(default=30.0, ge=0, description="cap on a server's Retry-After")
    max_response_bytes: int = Field(default=20_000_000, gt=0)
    max_pages: int = Field(default=50, gt=0, description="pagination limit per query")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_serializer("headers")
    def _mask_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: "**********" if sensitive_header(k) else v for k, v in headers.items()}

    def secrets(self) -> list[str]:
        """Credentials of these settings: auth secrets and credential-like header values."""
        return [*self.auth.secrets(), *(v for k, v in self.headers.items() if sensitive_header(k) and v)]


class _Retryable(Exception):
    """A failure worth another attempt; carries the final error to raise if attempts run out."""

    def __init__(self, error: SourceError, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class Scrubber:
    """Replaces known secrets in text; used for every message and log line the layer writes."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets = sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpClient:
    """An async JSON client for one backend. Use as ``async with`` or call :meth:`aclose`."""

    def __init__(self, backend: str, settings: HttpSettings, *,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.backend = backend
        self.settings = settings
        self.scrub = Scrubber(settings.secrets())
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    # ------------------------------------------------------------ client construction

    def _build(self) -> httpx.AsyncClient:
        s = self.settings
        auth: httpx.Auth | None = None
        headers = dict(s.headers)
        if s.auth.bearer_token is not None:
            headers["Authorization"] = f"Bearer {s.auth.bearer_token.get_secret_value()}"
        elif s.auth.username is not None:
            pw = s.auth.password.get_secret_value() if s.auth.password is not None else ""
            auth = httpx.BasicAuth(s.auth.username, pw)
        verify: ssl.SSLContext | bool = s.verify_tls
        if s.ca_file or s.auth.cert_file:
            verify = self._ssl_context()
        timeout = httpx.Timeout(s.read_timeout, connect=s.connect_timeout)
        return httpx.AsyncClient(base_url=s.url, headers=headers, auth=auth, verify=verify,
                                 timeout=timeout, transport=self._transport, follow_redirects=False)

    def _ssl_context(self) -> ssl.SSLContext:
        s = self.settings
        try:
            ctx = ssl.create_default_context(cafile=s.ca_file)
            if not s.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if s.auth.cert_file:
                ctx.load_cert_chain(s.auth.cert_file, s.auth.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{self.backend}: cannot load TLS files: {exc}") from None
        return ctx

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = self._build()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------ requests

    def error(self, problem: str, *, unavailable: bool = False) -> SourceError:
        """A day2ai error for this backend with secrets scrubbed from ``problem``."""
        cls = SourceUnavailable if unavailable else SourceError
        return cls(self.backend, self.scrub(problem))

    async def get_json(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None,
                       headers: dict[str, str] | None = None) -> Any:
        return orjson_loads(self, path, await self.request("GET", path, params=params, headers=headers))

    async def post_json(self, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        content = orjson.dumps(body)
        raw = await self.request("POST", path, params=params, content=content,
                                 headers={"Content-Type": "application/json"})
        return orjson_loads(self, path, raw)

    async def get_page(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, httpx.Headers]:
        """GET JSON and the response headers (for Link-header pagination)."""
        holder: dict[str, httpx.Headers] = {}
        raw = await self.request("GET", path, params=params, header_sink=holder)
        return orjson_loads(self, path, raw), holder["headers"]

    async def request(self, method: str, path: str, *, params: Any = None, content: bytes | None = None,
                      headers: dict[str, str] | None = None,
                      header_sink: dict[str, httpx.Headers] | None = None) -> bytes:
        """Send one request with retries; return the body (at most ``max_response_bytes``)."""
        s = self.settings
        budget, limit_text = _time_left(s.deadline)
        if budget <= 0:
            raise self.error(f"{method} {path}: not sent: {limit_text} was reached", unavailable=True)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(s.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
            before_sleep=lambda rs: self._log_retry(method, path, rs),
        )
        try:
            async with asyncio.timeout(budget):
                async for attempt in retrying:
                    with attempt:
                        return await self._once(method, path, params, content, headers, header_sink)
        except _Retryable as exc:
            raise exc.error from None
        except TimeoutError:
            raise self.error(f"{method} {path}: no complete answer within {limit_text}",
                             unavailable=True) from None
        raise self.error(f"{method} {path}: no attempt was made", unavailable=True)  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        s = self.settings
        exc = state.outcome.exception() if state.outcome is not None else None
        backoff: float = s.backoff * (2 ** (state.attempt_number - 1)) * (0.5 + random.random() / 2)
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            backoff = min(exc.retry_after, s.max_retry_after)
        remaining: float = s.deadline - (time.monotonic() - float(state.start_time))
        return max(0.0, min(backoff, remaining))

    def _log_retry(self, method: str, path: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning("%s: %s %s failed (%s); retry %d", self.backend, method, path,
                    self.scrub(str(exc)), state.attempt_number)

    async def _once(self, method: str, path: str, params: Any, content: bytes | None,
                    headers: dict[str, str] | None, header_sink: dict[str, httpx.Headers] | None) -> bytes:
        what = f"{method} {path}"
        try:
            async with self.client.stream(method, path, params=params, content=content,
                                          headers=headers) as resp:
                if resp.status_code >= 400:
                    body = await self._read(resp, what, limit=2000, cut=True)
                    raise self._status_error(what, resp, body)
                if resp.status_code >= 300:
                    raise self.error(f"{what}: HTTP {resp.status_code} redirect not followed (check the url)")
                if header_sink is not None:
                    header_sink["headers"] = resp.headers
                return await self._read(resp, what, limit=self.settings.max_response_bytes)
        except (_Retryable, SourceError):
            raise
        except httpx.TimeoutException as exc:
            raise _Retryable(self.error(f"{what}: timed out ({type(exc).__name__})", unavailable=True)) \
                from None
        except (httpx.TransportError, ssl.SSLError, OSError) as exc:
            raise _Retryable(self.error(f"{what}: cannot connect ({type(exc).__name__}: {str(exc)[:200]})",
                                        unavailable=True)) from None
        except httpx.HTTPError as exc:
            raise self.error(f"{what}: HTTP error ({type(exc).__name__})") from None

    async def _read(self, resp: httpx.Response, what: str, *, limit: int, cut: bool = False) -> bytes:
        declared = resp.headers.get("content-length")
        if not cut and declared is not None and declared.isdigit() and int(declared) > limit:
            raise self.error(f"{what}: response of {int(declared)} bytes exceeds the cap of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > limit:
                if cut:
                    chunks.append(chunk[: max(0, limit - (size - len(chunk)))])
                    break
                raise self.error(f"{what}: response exceeds the cap of {limit} bytes; stopped reading")
            chunks.append(chunk)
        return b"".join(chunks)

    def _status_error(self, what: str, resp: httpx.Response, body: bytes) -> Exception:
        detail = _error_detail(body)
        problem = f"{what}: HTTP {resp.status_code}" + (f": {detail}" if detail else "")
        if resp.status_code in RETRY_STATUSES:
            retry_after = parse_retry_after(resp.headers.get("retry-after"))
            return _Retryable(self.error(problem, unavailable=True), retry_after)
        if resp.status_code in (401, 403):
            return self.error(f"{what}: HTTP {resp.status_code} (check the credentials)", unavailable=True)
        return self.error(problem)

    def page_limit(self, what: str) -> SourceError:
        return self.error(f"{what}: stopped after {self.settings.max_pages} pages (pagination limit); "
                          "results are incomplete")


def _error_detail(body: bytes) -> str:
    """A short human message from an error body (JSON ``error``/``message`` fields, or text)."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(obj, dict):
        for key in ("error", "message", "reason", "msg"):
            val = obj.get(key)
            if isinstance(val, dict):
                val = val.get("reason") or val.get("type") or val.get("message")
            if isinstance(val, str) and val:
                return val[:200]
    return str(obj)[:200]


def orjson_loads(client: HttpClient, path: str, raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise client.error(f"{path}: malformed JSON in response ({exc.msg} at byte {exc.pos} "
                           f"of {len(raw)})") from None


def expect(client: HttpClient, cond: bool, path: str, problem: str) -> None:
    """Raise a SourceError about an unexpected response shape unless ``cond`` holds."""
    if not cond:
        raise client.error(f"{path}: unexpected response: {problem}")
