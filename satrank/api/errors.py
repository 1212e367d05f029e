"""One error envelope for every error the API answers:

    {"error": {"code": "UPPER_SNAKE", "message": "...", "details"?: {...}}, "requestId": "..."}

Routes raise `ApiError` (or a subclass); the handlers here render it. The database being
unreachable (a driver error or `db.errors.DatabaseUnavailable`, wherever a route meets
it) is 503 DATABASE_UNAVAILABLE with Retry-After: the client should come back, nothing is
wrong with its request. Anything else unexpected becomes INTERNAL_ERROR with the request
id and no stack trace in the body.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope, Send

from satrank.db.errors import DRIVER_ERRORS, DatabaseError, DatabaseUnavailable, translate

_log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_S = 5
# Handled inside the app (ExceptionMiddleware) rather than by the catch-all, which Starlette
# re-raises to the server after answering (a traceback per request while Postgres is down).
DATABASE_EXCEPTIONS: tuple[type[BaseException], ...] = (DatabaseError, *DRIVER_ERRORS)

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def retry_later(status: int, code: str, message: str, retry_after_s: float) -> ApiError:
    """A refusal the client should retry, with Retry-After in whole seconds."""
    return ApiError(status, code, message,
                    headers={"Retry-After": str(math.ceil(retry_after_s))})


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = dict(details)
    return JSONResponse(
        {"error": error, "requestId": request_id_of(request)},
        status_code=status,
        headers=dict(headers) if headers else None,
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(
        request, exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
    )


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").lower()
    return error_response(request, exc.status_code, code, message, headers=exc.headers)


async def handle_database_error(request: Request, exc: Exception) -> Response:
    if isinstance(translate(exc), DatabaseUnavailable):
        _log.warning("database unavailable (request %s): %s", request_id_of(request),
                     type(exc).__name__)
        return error_response(request, 503, "DATABASE_UNAVAILABLE",
                              "the database is unavailable; retry later",
                              headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})
    return await handle_unexpected(request, exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    request_id = request_id_of(request)
    _log.exception("unhandled error (request %s)", request_id)
    # This handler runs outside RequestIdMiddleware (Starlette puts it outermost).
    return error_response(
        request, 500, "INTERNAL_ERROR", "internal error", headers={"X-Request-Id": request_id}
    )


def envelope_bytes(
    request_id: str, code: str, message: str, details: Mapping[str, Any] | None = None
) -> bytes:
    """The envelope as bytes, for pure ASGI middleware that has no Request object."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = dict(details)
    return json.dumps({"error": error, "requestId": request_id}).encode()


async def send_error(
    scope: Scope, send: Send, status: int, code: str, message: str,
    *, headers: Mapping[str, str] | None = None,
) -> None:
    """Answer with the envelope straight from ASGI middleware (before any route ran)."""
    request_id = str(scope.get("state", {}).get("request_id", ""))
    body = envelope_bytes(request_id, code, message)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
