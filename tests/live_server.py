"""Run an ASGI app on real uvicorn (uvloop + httptools) on a port chosen at run time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from satrank.api.http_writes import CoalescingHttpProtocol


@contextmanager
def live_server(app: ASGIApp) -> Iterator[str]:
    """Serve `app` in a background thread; yield its base URL; stop it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The http protocol and proxy_headers=False as in `satrank serve`: uvicorn's default
    # would replace the TCP peer with X-Forwarded-For before the app's own client-IP logic
    # sees the request.
    config = uvicorn.Config(
        app, loop="uvloop", http=CoalescingHttpProtocol, log_config=None, access_log=False,
        lifespan="on", proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
