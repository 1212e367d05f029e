"""Pure ASGI middleware: a request id on `scope['state']` and on every response."""

from __future__ import annotations

import random
import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()
# scope["state"] key: the id was sent by the client (else we generated it)
CLIENT_SENT_ID = "request_id_from_client"
# Request ids correlate log lines; they need to be unique, not unguessable, so they come
# from a fast PRNG seeded once from the OS rather than a urandom call per request.
_ids = random.Random(secrets.randbits(128))
# A client-sent id is echoed only when it is short and plain, so it cannot inject into logs.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = ""
        for name, value in scope["headers"]:
            if name == _HEADER_BYTES:
                sent = value.decode("latin-1")  # the last one, as dict() would keep
        state = scope.setdefault("state", {})
        if _ACCEPTABLE.match(sent):
            request_id = state["request_id"] = sent
            state[CLIENT_SENT_ID] = True  # the access log redacts it: a client wrote it
        else:
            request_id = state["request_id"] = f"{_ids.getrandbits(64):016x}"

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
