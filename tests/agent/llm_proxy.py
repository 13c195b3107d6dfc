"""A recording reverse proxy on loopback, in front of a real model server (stdlib only).

``with RecordingProxy("http://127.0.0.1:PORT") as proxy:`` point the client at
``proxy.base_url``; every exchange is kept in ``proxy.log`` (method, path, request body, status,
response body, seconds) so a test can check exactly what reached the server and what came back.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Exchange:
    method: str
    path: str
    request: str
    status: int
    response: str
    seconds: float

    def json_request(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.request) if self.request else {}
        return data

    def json_response(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.response)
        except ValueError:
            return {}
        return data


class RecordingProxy:
    def __init__(self, upstream: str, timeout_s: float = 900.0) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout_s = timeout_s
        self.log: list[Exchange] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def chat(self) -> list[Exchange]:
        return [x for x in self.log if x.path.endswith("/chat/completions")]

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def forward(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data, status = resp.read(), resp.status
            ctype = resp.getheader("content-type") or "application/json"
        except OSError as exc:  # the client gave up or the server is gone: record it all the same
            data, status, ctype = json.dumps({"error": str(exc)}).encode(), 599, "application/json"
        finally:
            conn.close()
        with self._lock:
            self.log.append(Exchange(method, path, body.decode("utf-8", "replace"), status,
                                     data.decode("utf-8", "replace"), time.perf_counter() - started))
        return status, data, ctype

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
                status, data, ctype = proxy.forward(self.command, self.path, body, headers)
                try:
                    self.send_response(status)
                    self.send_header("content-type", ctype)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client disconnected (its timeout)
                    return

            do_GET = _relay
            do_POST = _relay

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
