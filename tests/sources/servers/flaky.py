"""A local, misbehaving HTTP server for fault-injection tests (asyncio, 127.0.0.1, stdlib only).

Each path prefix maps to a behaviour: ``hang`` (answers nothing for a while, then closes),
``error500``, ``throttle`` (429 with ``Retry-After`` for the first N requests, then the fallback
body), ``truncated`` (a JSON body cut in the middle), ``huge`` (a 50 MB body, streamed in chunks
without Content-Length; the number of bytes actually sent is recorded), ``echo_auth`` (a 400 whose
body echoes the Authorization header, as some proxies do), ``endless_k8s`` (a Kubernetes list whose
``continue`` token never ends) and ``json`` (a fixed body). Every connection handler is bounded in
time and bytes: nothing runs after the test's ``async with`` block ends.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Behaviour:
    kind: str
    body: Any = None
    count: int = 0  # throttle: how many 429s before the body
    retry_after: str = "1"
    hang_seconds: float = 3.0
    size: int = 50 * 1024 * 1024


@dataclass
class Seen:
    path: str
    at: float
    headers: dict[str, str]


@dataclass
class FlakyServer:
    routes: dict[str, Behaviour]
    seen: list[Seen] = field(default_factory=list)
    sent_bytes: dict[str, int] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> FlakyServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def hits(self, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(prefix)]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            for _ in range(100):  # bounded keep-alive loop
                if not await asyncio.wait_for(self._one(reader, writer), timeout=30):
                    break
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the server is shutting down
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        _method, target, _version = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        if int(headers.get("content-length", "0")):
            await reader.readexactly(int(headers["content-length"]))
        path = target.split("?", 1)[0]
        self.seen.append(Seen(path=target, at=time.monotonic(), headers=headers))
        behaviour = next((b for p, b in self.routes.items() if path.startswith(p)), Behaviour("json", {}))
        return await self._respond(behaviour, path, target, headers, writer)

    async def _respond(
        self, b: Behaviour, path: str, target: str, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> bool:
        if b.kind == "hang":
            await asyncio.sleep(b.hang_seconds)
            return False
        if b.kind == "error500":
            return await _send(writer, 500, b'{"status":"error","error":"internal failure"}')
        if b.kind == "throttle":
            n = sum(1 for s in self.seen if s.path.split("?", 1)[0] == path)
            if n <= b.count:
                return await _send(writer, 429, b'{"error":"slow down"}', {"Retry-After": b.retry_after})
            return await _send(writer, 200, json.dumps(b.body).encode())
        if b.kind == "truncated":
            text = json.dumps(b.body).encode()
            return await _send(writer, 200, text[: len(text) // 2])
        if b.kind == "echo_auth":
            echoed = json.dumps(
                {"error": f"bad request; you sent Authorization: {headers.get('authorization')}"}
            )
            return await _send(writer, 400, echoed.encode())
        if b.kind == "endless_k8s":
            n = len(self.seen)
            body = {"kind": "ReplicaSetList", "metadata": {"continue": f"token-{n}"}, "items": []}
            return await _send(writer, 200, json.dumps(body).encode())
        if b.kind == "huge":
            await self._huge(b, path, writer)
            return False
        return await _send(writer, 200, json.dumps(b.body).encode())

    async def _huge(self, b: Behaviour, path: str, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"[" + b"1," * (64 * 1024 // 2)
        sent = 0
        try:
            while sent < b.size:
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                await writer.drain()
                sent += len(chunk)
                self.sent_bytes[path] = sent
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            return


async def _send(
    writer: asyncio.StreamWriter, status: int, body: bytes, headers: dict[str, str] | None = None
) -> bool:
    reason = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error"}[status]
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    return True


@contextmanager
def serve_in_thread(routes: dict[str, Behaviour]) -> Iterator[FlakyServer]:
    """Run a FlakyServer on its own event loop in a thread (for code that calls ``asyncio.run``)."""
    loop = asyncio.new_event_loop()
    server = FlakyServer(routes)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.__aenter__())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.__aexit__())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the flaky server did not start")
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
