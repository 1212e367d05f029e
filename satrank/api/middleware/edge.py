"""The api's outermost pure ASGI layer: what every request gets on its way in and out.

One layer with one `send` wrapper does the cheap per-request jobs that used to be five
layers (each with its own coroutine frame and `send` closure, ~15 % of a cached answer's
CPU): the request id (request_id.py), CORS (cors.py), the Prometheus series (metrics.py),
the access line (access_log.py) and the interest note (interest.py). Each job stays in
its module; this one only orders them:

- a request id on `scope["state"]` before anything runs, on every response;
- a CORS preflight of a public path is answered here (counted, not logged: it is not a
  request of the api); every public answer gets the CORS headers;
- every other request is timed, counted and logged once it is answered, whether by a
  route, the paywall or a guard, and a 200 of a node lookup notes the node's interest.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api.middleware.access_log import AccessLog
from satrank.api.middleware.cors import PublicCors
from satrank.api.middleware.interest import InterestBuffer
from satrank.api.middleware.metrics import observe_request
from satrank.api.middleware.request_id import assign_request_id, with_request_id


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: AccessLog, interest: InterestBuffer,
                 cors: PublicCors | None = None) -> None:
        self.app = app
        self.access_log = access_log
        self.interest = interest
        self.cors = cors or PublicCors()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = assign_request_id(scope)
        public = self.cors.covers(scope)
        origin = self.cors.origin(scope) if public else None
        if public and self.cors.is_preflight(scope, origin):
            status = 500
            try:
                status = await self.cors.answer_preflight(scope, receive, send, request_id)
            finally:
                observe_request(scope, status, time.perf_counter() - started)
            return
        status = 500  # what the client gets if the app raises before responding

        async def send_decorated(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = with_request_id(message, request_id)  # the message's own list
                if public:
                    self.cors.decorate(headers, origin)
            await send(message)

        try:
            await self.app(scope, receive, send_decorated)
        finally:
            elapsed = time.perf_counter() - started
            observe_request(scope, status, elapsed)
            self.access_log.log(scope, status, elapsed)
        self.interest.note_answer(scope, status)
