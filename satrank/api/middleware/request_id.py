"""A request id on `scope['state']` and on every response (middleware/edge.py calls it)."""

from __future__ import annotations

import random
import re
import secrets

from starlette.types import Message, Scope

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()
# scope["state"] key: the id was sent by the client (else we generated it)
CLIENT_SENT_ID = "request_id_from_client"
# Request ids correlate log lines; they need to be unique, not unguessable, so they come
# from a fast PRNG seeded once from the OS rather than a urandom call per request.
_ids = random.Random(secrets.randbits(128))
# A client-sent id is echoed only when it is short and plain, so it cannot inject into logs.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def assign_request_id(scope: Scope) -> str:
    """The request's id, kept in `scope["state"]`: the client's X-Request-Id when it is
    short and plain (flagged, so the access log redacts it), else a fresh one."""
    sent = ""
    for name, value in scope["headers"]:
        if name == _HEADER_BYTES:
            sent = value.decode("latin-1")  # the last one, as dict() would keep
    state = scope.setdefault("state", {})
    if sent and _ACCEPTABLE.match(sent):
        state[CLIENT_SENT_ID] = True  # the access log redacts it: a client wrote it
        request_id = state["request_id"] = sent
    else:
        request_id = state["request_id"] = f"{_ids.getrandbits(64):016x}"
    return request_id


RawHeaders = list[tuple[bytes, bytes]]


def with_request_id(message: Message, request_id: str) -> RawHeaders:
    """The raw header list of an `http.response.start` message, now carrying the request
    id in place of any the app set. A copy put in the message, as `MutableHeaders` makes
    (a response may share its list), but raw: this runs on every answer."""
    headers: RawHeaders = list(message.get("headers") or ())
    message["headers"] = headers
    set_raw(headers, _HEADER_BYTES, request_id.encode("latin-1"))
    return headers


def set_raw(headers: RawHeaders, name: bytes, value: bytes) -> None:
    """`MutableHeaders.__setitem__` on a raw list: every `name` header replaced by one
    (ASGI header names are lower case)."""
    if any(key == name for key, _ in headers):
        headers[:] = [h for h in headers if h[0] != name]
    headers.append((name, value))
