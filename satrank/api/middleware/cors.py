"""CORS for the public API, so a browser agent can read a 402's challenge and send
`Authorization` back: preflight `OPTIONS` requests are answered (Starlette's
CORSMiddleware), and every cross-origin answer exposes the headers an L402 client reads.

Only `/api/` and `/.well-known/` get CORS. `/metrics` is admin-only and open to loopback
without a key, so a web page in the operator's browser must never read it.

Any origin, no cookies (`allow_credentials` off): payment is the authentication, the
credential travels in `Authorization`, which the browser sends only because the page's
script put it there. Any method and request header pass the preflight: Starlette refuses
others with a plain-text 400 outside our error envelope, while the real request gets the
envelope anyway (405 for a method the route lacks); allowing a header grants nothing.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from satrank.api.middleware.request_id import HEADER as REQUEST_ID_HEADER
from satrank.api.middleware.request_id import RawHeaders, set_raw

PUBLIC_PREFIXES = ("/api/", "/.well-known/")
EXPOSED_HEADERS = ("WWW-Authenticate", "X-Request-Id", "X-L402-Credits-Left", "Retry-After")
PREFLIGHT_MAX_AGE_S = 600


async def _never_called(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("PublicCors answers preflights only; requests go on in edge.py")


class PublicCors:
    """Starlette's CORS rules for the public paths, as calls for middleware/edge.py (one
    `send` wrapper for every per-request job instead of a layer of its own)."""

    def __init__(self) -> None:
        self._cors = CORSMiddleware(
            _never_called,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=list(EXPOSED_HEADERS),
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_S,
        )
        self._simple_headers = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                for k, v in self._cors.simple_headers.items()]

    @staticmethod
    def covers(scope: Scope) -> bool:
        return bool(scope["path"].startswith(PUBLIC_PREFIXES))

    @staticmethod
    def origin(scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"origin":
                return str(value.decode("latin-1"))  # the first, as Headers.get gives it
        return None

    @staticmethod
    def is_preflight(scope: Scope, origin: str | None) -> bool:
        return (origin is not None and scope["method"] == "OPTIONS"
                and "access-control-request-method" in Headers(scope=scope))

    async def answer_preflight(self, scope: Scope, receive: Receive, send: Send,
                               request_id: str) -> int:
        """Answer a preflight; its status."""
        response = self._cors.preflight_response(request_headers=Headers(scope=scope))
        response.headers[REQUEST_ID_HEADER] = request_id
        await response(scope, receive, send)
        return response.status_code

    def decorate(self, headers: RawHeaders, origin: str | None) -> None:
        """The CORS headers of an answer (a raw header list), as CORSMiddleware sets them
        for any origin without credentials: the exposed headers for a cross-origin
        request, and `Vary: Origin` on every answer."""
        if origin is not None:
            for name, value in self._simple_headers:
                set_raw(headers, name, value)
        vary = [value for name, value in headers if name == b"vary"]
        set_raw(headers, b"vary", b", ".join([*vary, b"Origin"]))
