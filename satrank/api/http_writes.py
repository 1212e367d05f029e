"""One socket write per answer for `satrank serve` (uvicorn's httptools protocol).

uvicorn writes a response's status line and headers, then its body, as two
`transport.write` calls, and uvloop sends each at once: two `send` syscalls per answer,
each running loopback TCP's whole path. Profiled under load (bench/RESULTS.md) the two
writes were a quarter of a cached answer's CPU. `CoalescingHttpProtocol` gives the
protocol a transport that holds what one connection writes and sends it in one write when
the answer is complete, or at the end of the loop iteration for what is written before
that (a streamed answer's chunks, a 100 Continue): the same bytes in the same order, one
syscall per answer, and nothing waits past the iteration it was written in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport whose writes within one loop iteration leave as one write; everything
    else is the wrapped transport's (a close or abort sends what is held first)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        held = self._held
        if not held:
            return
        self._held = []
        if self._transport.is_closing():
            return  # the peer went away: the real transport would drop these too
        self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `CoalescingTransport` (pass as uvicorn's `http`);
    a complete answer is sent at once, not at the end of the iteration (other requests'
    work in the same iteration would otherwise delay it)."""

    _coalescing: CoalescingTransport

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(self._coalescing)  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self._coalescing.flush()
        super().on_response_complete()
