"""Answers rendered once per data version and sent as they are: the body, its ETag and its
encoded headers are made when the body is, so a cached answer costs no JSON, hashing or
header encoding per request (the node caches keep `Rendered` values: cache/nodes.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import Scope

_JSON = (b"content-type", b"application/json")


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str  # weak: the same body is the same data, whatever its byte order
    head: tuple[tuple[bytes, bytes], ...]  # content-length and content-type, encoded


def rendered(body: bytes) -> Rendered:
    return Rendered(body, 'W/"' + hashlib.sha256(body).hexdigest()[:16] + '"',
                    ((b"content-length", str(len(body)).encode()), _JSON))


class RenderedResponse(Response):
    """A 200 of a `Rendered` body: its encoded headers plus `extra` (a fresh list per
    answer: the edge layer adds the request id to the one it is given)."""

    def __init__(self, answer: Rendered, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        self.status_code = 200
        self.background = None
        self.body = answer.body
        self.raw_headers = [*answer.head, *extra]


def etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2) against an If-None-Match list."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def _if_none_match(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return str(value.decode("latin-1"))
    return None


def conditional(scope: Scope, answer: Rendered, cache_control: str | None = None) -> Response:
    """The answer with its ETag (and `cache_control`), or a bodiless 304 when the client's
    If-None-Match already names it."""
    extra: tuple[tuple[bytes, bytes], ...] = ((b"etag", answer.etag.encode()),)
    if cache_control is not None:
        extra += ((b"cache-control", cache_control.encode()),)
    sent = _if_none_match(scope)
    if sent is not None and etag_matches(sent, answer.etag):
        response = Response(status_code=304)
        response.raw_headers = list(extra)
        return response
    return RenderedResponse(answer, extra)
