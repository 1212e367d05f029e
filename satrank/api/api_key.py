"""`X-API-Key` for admin and write routes, compared in constant time with API_KEY."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from satrank.api.errors import ApiError
from satrank.config import Settings

HEADER = "x-api-key"


def has_valid_api_key(request: Request, settings: Settings) -> bool:
    """False when API_KEY is unset (admin routes closed) or the header does not match."""
    expected = settings.l402.api_key
    sent = request.headers.get(HEADER)
    if expected is None or sent is None:
        return False
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"),
                               expected.reveal().encode("utf-8"))


def require_api_key(request: Request, settings: Settings) -> None:
    """Raise 401 API_KEY_REQUIRED unless the request carries the operator's API key."""
    if not has_valid_api_key(request, settings):
        raise ApiError(401, "API_KEY_REQUIRED", "this route needs a valid X-API-Key header")
