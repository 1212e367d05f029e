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

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC_PREFIXES = ("/api/", "/.well-known/")
EXPOSED_HEADERS = ("WWW-Authenticate", "X-Request-Id", "X-L402-Credits-Left", "Retry-After")
PREFLIGHT_MAX_AGE_S = 600


class PublicCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=list(EXPOSED_HEADERS),
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PUBLIC_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
