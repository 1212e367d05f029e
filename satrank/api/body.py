"""Reading and validating JSON request bodies and query parameters.

Validation errors name the field and what was expected, never the value that was sent
(it may be a preimage or anything a client would not want in our logs or its own).
Body fields that fail validation answer 422 VALIDATION_ERROR; a body that is not JSON
answers 400 MALFORMED_JSON, one nested deeper than the decoder can follow (about 1,000
levels: the interpreter's recursion limit) 400 JSON_TOO_DEEP; query parameters answer 400
INVALID_PARAMETER.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request

from satrank.api.errors import ApiError

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
T = TypeVar("T")
# request state key: the inputs parsed so far, by parser
_PARSED = "parsed_inputs"


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json"))


def loads_json(raw: bytes) -> Any:
    """`json.loads` of a request body (linear in its size, which BodyGuard caps). Raises
    ValueError for text that is not JSON, like `json.loads`, and ApiError 400 JSON_TOO_DEEP
    for nesting deeper than the recursion limit: the C decoder recurses per `[`/`{`, so
    16 KiB of `[` would otherwise escape every handler as a RecursionError (a 500)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ApiError(400, "JSON_TOO_DEEP",
                       "request body nests arrays or objects too deeply") from None


async def parsed_once(request: Request, parse: Callable[[Request], Awaitable[T]]) -> T:
    """`parse(request)`, remembered in the request's state: a paid route's input check
    (run by the paywall before payment, middleware/l402.py) and the route then share one
    parse of the same input instead of reading and validating it twice."""
    parsed: dict[object, Any] = request.scope.setdefault("state", {}).setdefault(_PARSED, {})
    if parse not in parsed:
        parsed[parse] = await parse(request)
    return parsed[parse]  # type: ignore[no-any-return]


def invalid_field(field: str, expected: str) -> ApiError:
    return ApiError(422, "VALIDATION_ERROR", f"{field} must be {expected}",
                    details={"field": field})


async def json_object(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The body as a JSON object whose keys are all in `allowed` (415 unless sent as JSON)."""
    if not is_json_media_type(request.headers.get("content-type", "")):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    raw = await request.body()
    try:
        body = loads_json(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "MALFORMED_JSON", "request body must be valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(422, "VALIDATION_ERROR", "request body must be a JSON object",
                       details={"field": "body"})
    for key in body:
        if key not in allowed:
            # Names an unknown field only when it is short and plain; never echoes values.
            shown = key if re.fullmatch(r"[A-Za-z0-9_]{1,32}", key) else "(unnamed)"
            raise ApiError(422, "VALIDATION_ERROR", f"unknown field {shown}",
                           details={"field": shown})
    return body


def hex32(body: dict[str, Any], field: str) -> bytes | None:
    """An optional 64-hex field as 32 bytes."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _HEX64.match(value):
        raise invalid_field(field, "64 hex characters")
    return bytes.fromhex(value)


def int_in(body: dict[str, Any], field: str, low: int, high: int) -> int | None:
    """An optional integer field within [low, high] (booleans are not integers)."""
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid_field(field, f"an integer between {low} and {high}")
    return value


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not low <= int(raw) <= high:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"{name} must be an integer between {low} and {high}",
                       details={"field": name})
    return int(raw)
