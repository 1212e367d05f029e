"""`satrank serve`'s http protocol sends each answer in one socket write, same bytes.

Real uvicorn (uvloop + httptools) on a real socket; a recorder between the protocol's
coalescing transport and the socket counts the writes that reach the socket.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from satrank.api.http_writes import CoalescingHttpProtocol, CoalescingTransport

socket_writes: list[bytes] = []


class _Recorder:
    """The real transport, with each write that reaches it recorded."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        socket_writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _RecordedProtocol(CoalescingHttpProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Recorder(transport))  # type: ignore[arg-type]


async def _small(request: Request) -> Response:
    return JSONResponse({"ok": True}, headers={"X-Extra": "1"})


async def _stream(request: Request) -> Response:
    async def chunks() -> Any:
        for i in range(3):
            yield f"chunk{i};".encode()
            await asyncio.sleep(0.05)  # each chunk leaves in an iteration of its own

    return StreamingResponse(chunks(), media_type="text/plain")


@contextmanager
def served(protocol: type[asyncio.Protocol]) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/small", _small), Route("/stream", _stream)])
    server = uvicorn.Server(uvicorn.Config(app, loop="uvloop", http=protocol, log_config=None,
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def _exchange(port: int, request: bytes, answers: int) -> bytes:
    """Send `request` bytes on one connection; read until `answers` complete answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        got = b""
        while got.count(b"HTTP/1.1 ") < answers or not (
                got.endswith(b"}") or got.endswith(b"0\r\n\r\n")):
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


GET_SMALL = b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n"


def test_an_answer_leaves_in_one_write_with_its_head_and_body() -> None:
    socket_writes.clear()
    with served(_RecordedProtocol) as port:
        got = _exchange(port, GET_SMALL, 1)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n") and got.endswith(b'{"ok":true}')
    assert b"x-extra: 1\r\n" in got
    assert socket_writes == [got]  # uvicorn alone writes the head, then the body


def test_pipelined_requests_get_their_answers_in_order() -> None:
    socket_writes.clear()
    with served(_RecordedProtocol) as port:
        got = _exchange(port, GET_SMALL * 3, 3)
    assert got.count(b'{"ok":true}') == 3
    assert len(socket_writes) == 3 and b"".join(socket_writes) == got


def test_a_streamed_answer_sends_each_chunk_when_it_is_written() -> None:
    socket_writes.clear()
    with served(_RecordedProtocol) as port:
        got = _exchange(port, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", 1)
    assert got.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"chunk0;" in got and got.endswith(b"0\r\n\r\n")
    # the head travels with the first chunk; later chunks do not wait for the end
    assert len(socket_writes) >= 3 and b"".join(socket_writes) == got
    assert b"chunk0;" in socket_writes[0] and b"chunk2;" not in socket_writes[0]


def test_held_bytes_leave_at_the_end_of_the_iteration_and_before_a_close() -> None:
    async def run() -> tuple[list[bytes], list[bytes], bool]:
        loop = asyncio.get_running_loop()
        written: list[bytes] = []
        closed: list[bool] = []

        class Sink(asyncio.Transport):
            def write(self, data: Any) -> None:
                written.append(bytes(data))

            def is_closing(self) -> bool:
                return bool(closed)

            def close(self) -> None:
                closed.append(True)

        sink = Sink()
        held = CoalescingTransport(sink, loop)
        held.write(b"head ")
        held.write(bytearray(b"body"))
        assert written == []  # still within the iteration
        await asyncio.sleep(0)
        after_tick = list(written)
        held.write(b"last")
        held.close()
        return after_tick, written, bool(closed)

    after_tick, written, closed = asyncio.run(run())
    assert after_tick == [b"head body"]
    assert written == [b"head body", b"last"] and closed
