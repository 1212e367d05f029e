"""Pure ASGI middleware: one structured log line per HTTP request.

    request method=GET route=/api/profile/{id} status=402 duration_ms=3.1 request_id=ab12…

The route is the template, never the concrete path, so node ids and query strings (which
may carry anything a client typed) stay out of the log. No header is logged. The client
address is added only when the operator sets LOG_CLIENT_IPS=true.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api.middleware.route_match import route_template

_log = logging.getLogger("satrank.access")
UNMATCHED_ROUTE = "-"




class AccessLogMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        log_client_ips: bool = False,
        client_ip_of: Callable[[Scope], str] | None = None,
    ) -> None:
        self.app = app
        self.log_client_ips = log_client_ips
        self.client_ip_of = client_ip_of or _peer_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before responding

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self._log_request(scope, status, time.perf_counter() - started)

    def _log_request(self, scope: Scope, status: int, elapsed_s: float) -> None:
        request_id = scope.get("state", {}).get("request_id", "-")
        line = "request method=%s route=%s status=%d duration_ms=%.1f request_id=%s"
        args: tuple[object, ...] = (
            scope["method"], route_template(scope) or UNMATCHED_ROUTE, status,
            elapsed_s * 1000, request_id,
        )
        if self.log_client_ips:
            line += " client=%s"
            args += (self.client_ip_of(scope),)
        _log.info(line, *args)


def _peer_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"
