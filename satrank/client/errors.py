"""Every exception the client raises, in one tree:

    SatRankError
    ├── ApiError                 the server answered an error envelope (`code`, `status`)
    │   ├── InvalidRequest       400 / 409 / 413 / 415 / 422: fix the request, do not retry
    │   ├── NotFound             404
    │   ├── PaymentRequired      402 and no wallet (or no way to pay) on this client
    │   ├── RateLimited          429 (retry after `retry_after_s`)
    │   └── ServiceUnavailable   5xx, CREDITS_BUSY after the retries it allows
    ├── SpendingCapExceeded      a payment refused by our own caps, BEFORE anything was paid
    ├── WalletError              the wallet did not pay (or cannot say: `maybe_paid`)
    ├── ProtocolError            the server's answer is not what the L402 contract says
    └── TransportError           no answer at all (connection refused, timeout)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SatRankError(Exception):
    """Base of everything this client raises."""


class ApiError(SatRankError):
    """An error answer from SatRank: `code` is the server's `error.code`."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: Mapping[str, Any] | None = None, request_id: str = "",
                 retry_after_s: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.request_id = request_id
        self.retry_after_s = retry_after_s


class InvalidRequest(ApiError):
    pass


class NotFound(ApiError):
    pass


class PaymentRequired(ApiError):
    pass


class RateLimited(ApiError):
    pass


class ServiceUnavailable(ApiError):
    pass


class SpendingCapExceeded(SatRankError):
    """Paying `amount_sat` would break a cap; nothing was paid."""

    def __init__(self, cap: str, amount_sat: int, limit_sat: int, spent_sat: int = 0) -> None:
        super().__init__(f"paying {amount_sat} sat would exceed the {cap} cap of {limit_sat} "
                         f"sat ({spent_sat} sat already spent in that window); nothing was paid")
        self.cap = cap
        self.amount_sat = amount_sat
        self.limit_sat = limit_sat
        self.spent_sat = spent_sat


class WalletError(SatRankError):
    """The wallet did not pay (refused, no route, unreachable). `maybe_paid`: the outcome is
    unknown (in flight, timed out), so the caps keep counting it."""

    def __init__(self, message: str, *, maybe_paid: bool = False) -> None:
        super().__init__(message)
        self.maybe_paid = maybe_paid


class ProtocolError(SatRankError):
    """The server's answer breaks the contract (a 402 without a readable challenge, ...)."""


class TransportError(SatRankError):
    """No HTTP answer: the server could not be reached or did not answer in time."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest, 409: InvalidRequest, 413: InvalidRequest, 415: InvalidRequest,
    422: InvalidRequest, 404: NotFound, 402: PaymentRequired, 429: RateLimited,
}


def api_error(status: int, body: Any, *, retry_after_s: float | None = None) -> ApiError:
    """The typed exception for an error answer (`body` the parsed JSON, or anything)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or f"HTTP_{status}")
    message = str(error.get("message") or "no error message")
    details = error.get("details") if isinstance(error.get("details"), dict) else None
    request_id = str(body.get("requestId", "")) if isinstance(body, dict) else ""
    kind = _BY_STATUS.get(status, ServiceUnavailable if status >= 500 else ApiError)
    return kind(status, code, message, details=details, request_id=request_id,
                retry_after_s=retry_after_s)
