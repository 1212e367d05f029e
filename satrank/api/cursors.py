"""Opaque leaderboard cursors: the sort key of a page's last row, for keyset pagination.

On the wire a cursor is base64url (no padding) of the JSON array `[sort_by, key..., pubkey]`.
Clients must treat it as opaque; it only says where the next page starts, so a forged one
can do no more than start a page anywhere. Decoding is linear and bounded: at most
`MAX_CURSOR_CHARS` characters, one JSON array of finite numbers and a pubkey, each value of
the type its sort axis expects, or 400 INVALID_PARAMETER.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re

from satrank.api.errors import ApiError
from satrank.api.ids import classify_id
from satrank.db.nodes import SortAxis, SortKey, sort_key_types

MAX_CURSOR_CHARS = 256
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,256}")
_INT_BOUNDS = {"int": 2**31, "int8": 2**63 - 1}


def encode_cursor(sort: str, after: SortKey) -> str:
    text = json.dumps([sort, *after], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _invalid() -> ApiError:
    return ApiError(400, "INVALID_PARAMETER",
                    "cursor must be a next_cursor value from this sort order",
                    details={"field": "cursor"})


def _typed(value: object, kind: str) -> float | int | str | None:
    if kind == "text":
        parsed = classify_id(value) if isinstance(value, str) else None
        return parsed[1] if parsed is not None and parsed[0] == "pubkey" else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if kind in _INT_BOUNDS:
        return value if isinstance(value, int) and abs(value) <= _INT_BOUNDS[kind] else None
    return float(value) if math.isfinite(value) else None


def decode_cursor(sort: SortAxis, text: str) -> SortKey:
    """The sort key a leaderboard cursor of `sort` carries, or 400 INVALID_PARAMETER."""
    return decode_keyset(sort, text, sort_key_types(sort))


def decode_keyset(sort: str, text: str, kinds: tuple[str, ...]) -> SortKey:
    """The key a cursor of `sort` carries, one value per kind ("int", "int8", "float8",
    "text" for a pubkey), or 400 INVALID_PARAMETER."""
    if not _BASE64URL.fullmatch(text):
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        # at most 192 bytes: even a maximally nested array stays far below the recursion limit
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if not isinstance(value, list) or len(value) != len(kinds) + 1 or value[0] != sort:
        raise _invalid()
    typed = [_typed(v, kind) for v, kind in zip(value[1:], kinds, strict=True)]
    if any(v is None for v in typed):
        raise _invalid()
    return tuple(v for v in typed if v is not None)
