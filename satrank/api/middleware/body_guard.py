"""Pure ASGI guard in front of every route: a request body size limit.

Bodies larger than the limit are refused with 413, from Content-Length when it is sent
and while streaming otherwise, so an oversized body is never buffered. The JSON
content-type check (415) is made where a body is read (`api/body.json_object`), after
routing, so a POST to a GET-only route still answers 405.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api.errors import send_error

DEFAULT_MAX_BODY_BYTES = 16 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(Exception):
    pass


def _declared_too_large(declared: bytes, limit: int) -> bool:
    """Whether a Content-Length is over `limit` or not a number. Read without int() on the
    raw text: leading zeros are legal, so the HTTP parser lets "000...05" through, and
    int() refuses more than 4,300 digits with a ValueError (a 500) and is quadratic below."""
    if not declared.isdigit():
        return True
    significant = declared.lstrip(b"0")
    return len(significant) > len(str(limit)) or int(significant or b"0") > limit


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and _declared_too_large(declared, self.max_body_bytes):
            await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE",
                             f"request body must not exceed {self.max_body_bytes} bytes")
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE",
                                 f"request body must not exceed {self.max_body_bytes} bytes")
