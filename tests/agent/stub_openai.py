"""A local OpenAI-compatible HTTP stub for end-to-end tests (127.0.0.1 only, stdlib only).

It serves ``POST /v1/chat/completions`` (non-streaming). Each request is answered by the next
entry of a script, or by ``then`` once the script is used up:

* ``reply(content=..., tool_calls=[(name, arguments_json_string), ...])``: an assistant message;
* ``failure(status, headers=..., body=...)``: an HTTP error (e.g. 429 with ``retry-after-ms``);
* a callable ``(request_json) -> entry``: a policy that reads what the client sent.

Every request body is recorded verbatim (``bodies``) so tests can assert on exactly what left
the process, as a real provider would receive it.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from day2ai.tokens import count_tokens


@dataclass
class Reply:
    content: str | None = None
    tool_calls: list[tuple[str, str]] = field(default_factory=list)  # (name, raw arguments string)


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"error": {"message": "stub failure", "type": "server_error"}}'


Entry = Reply | Failure | Callable[[dict[str, Any]], "Reply | Failure"]


def reply(content: str | None = None,
          tool_calls: list[tuple[str, str | dict[str, Any]]] | None = None) -> Reply:
    calls = [(n, a if isinstance(a, str) else json.dumps(a)) for n, a in tool_calls or []]
    return Reply(content=content, tool_calls=calls)


def failure(status: int, headers: dict[str, str] | None = None) -> Failure:
    return Failure(status, headers or {})


class StubOpenAI:
    """``with StubOpenAI([...]) as stub: ChatOpenAI(base_url=stub.base_url, api_key="test")``."""

    def __init__(self, script: list[Entry] | None = None, then: Entry | None = None) -> None:
        self.script = list(script or [])
        self.then = then
        self.bodies: list[str] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(b) for b in self.bodies]

    def __enter__(self) -> StubOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, request: dict[str, Any]) -> Reply | Failure:
        with self._lock:
            entry = self.script.pop(0) if self.script else self.then
        if entry is None:
            return Failure(500, body='{"error": {"message": "stub script exhausted"}}')
        return entry(request) if callable(entry) else entry

    def respond(self, raw: str) -> tuple[int, dict[str, str], str]:
        with self._lock:
            self.bodies.append(raw)
        request = json.loads(raw)
        entry = self._next(request)
        if isinstance(entry, Failure):
            with self._lock:
                self.statuses.append(entry.status)
            return entry.status, entry.headers, entry.body
        message: dict[str, Any] = {"role": "assistant", "content": entry.content}
        if entry.tool_calls:
            message["tool_calls"] = [
                {"id": f"call_{next(self._ids)}", "type": "function", "function": {"name": n, "arguments": a}}
                for n, a in entry.tool_calls]
        prompt = count_tokens(json.dumps(request.get("messages", [])) + json.dumps(request.get("tools", [])))
        completion = count_tokens(json.dumps(message))
        body = {
            "id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion", "created": 1_764_000_000,
            "model": request.get("model", "stub"),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if entry.tool_calls else "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }
        with self._lock:
            self.statuses.append(200)
        return 200, {}, json.dumps(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                headers: dict[str, str] = {}
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    status, body = 404, '{"error": {"message": "not found"}}'
                else:
                    status, headers, body = stub.respond(raw)
                data = body.encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        return Handler
