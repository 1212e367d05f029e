"""The paywall's decision, free of HTTP: `PaywallGate.check(...)` says whether a request
is Granted (credits debited), Bypassed (operator), Throttled, CreditsBusy (its last
credits are held by another api process for a moment), or needs a ChallengeNeeded.

Only the api middleware turns a decision into a response; every refusal here carries a
`Refusal` reason so the client can tell an expired token from an exhausted or bad one.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from satrank.l402.caveats import Refusal, RequestContext
from satrank.l402.headers import (
    Credential,
    MalformedCredential,
    is_l402_authorization,
    parse_authorization,
)
from satrank.l402.verified_cache import VerifiedCache, credential_key
from satrank.l402.verify import (
    VerificationFailed,
    VerifiedToken,
    authenticate_credential,
    check_caveats,
)


@dataclass(frozen=True, slots=True)
class Granted:
    token: VerifiedToken
    cost: int
    credits_left: int

    @property
    def token_id(self) -> bytes:
        return self.token.token_id


@dataclass(frozen=True)
class Bypassed:
    pass


@dataclass(frozen=True)
class Throttled:
    retry_after_s: float


@dataclass(frozen=True)
class CreditsBusy:
    retry_after_s: float


@dataclass(frozen=True)
class ChallengeNeeded:
    reason: Refusal


Decision = Granted | Bypassed | Throttled | CreditsBusy | ChallengeNeeded

# A client told its credits are busy retries after this; the process holding them gives
# them back within about a second (api/ledger.py: IDLE_RETURN_S, SWEEP_S).
BUSY_RETRY_AFTER_S = 1.0


class LedgerUnavailable(Exception):
    """The ledger could not count credits (its store is down or timed out): the request
    can be neither served nor refused for want of credits; the client should retry."""


class Shortfall(enum.Enum):
    EXHAUSTED = "exhausted"  # the token has too few credits left anywhere
    HELD_ELSEWHERE = "held_elsewhere"  # its last credits are held by other processes


@dataclass(frozen=True)
class Debit:
    """One request's debit; `credits_total` is its credit caveat (a narrowed caveat is
    counted on its own, under the smaller limit); `credits_minted` is what the token was
    minted with, the ledger row's total whichever copy is used first."""

    token_id: bytes
    payment_hash: bytes
    credits_total: int
    valid_until_unix: int
    cost: int
    credits_minted: int


class CreditLedger(Protocol):
    """What the gate needs from wherever credits are counted (the api's lease ledger,
    api/ledger.py). `debit` must be atomic: N concurrent calls on a token with C credits
    succeed at most C times. It answers credits left, or why not, and raises
    LedgerUnavailable when it cannot tell. `refund` gives back the credits of an earlier
    granted debit."""

    def spend_held(self, token_id: bytes, credits_total: int, cost: int) -> int | None:
        """Credits left after spending `cost` of what this process holds already, or
        None when the debit would have to wait (then `debit` is called)."""
        ...

    async def debit(self, debit: Debit) -> int | Shortfall: ...

    def refund(self, debit: Debit) -> None: ...

    def release(self, token_id: bytes, credits_total: int) -> None:
        """A granted request finished, refunded or not."""
        ...


# token id -> 0.0 when the token may be used now, else seconds until it may.
TokenLimiter = Callable[[bytes], float]


def _no_limit(_token_id: bytes) -> float:
    return 0.0


class PaywallGate:
    def __init__(
        self,
        *,
        secrets: Sequence[bytes],
        ledger: CreditLedger,
        operator_secret: bytes | None = None,
        token_limiter: TokenLimiter = _no_limit,
    ) -> None:
        if not secrets or any(len(s) == 0 for s in secrets):
            raise ValueError("at least one non-empty macaroon secret is required")
        self._secrets = tuple(secrets)
        self._ledger = ledger
        self._operator_secret = operator_secret or None
        self._token_limiter = token_limiter
        self._verified = VerifiedCache()  # verified_cache.py: bounded whatever clients send

    def is_operator(self, operator_token: str | None) -> bool:
        """Constant-time check of X-Operator-Token; always False when bypass is disabled."""
        if self._operator_secret is None or operator_token is None:
            return False
        return hmac.compare_digest(operator_token.encode("utf-8", "surrogateescape"),
                                   self._operator_secret)

    async def check(
        self,
        *,
        authorizations: Sequence[str],
        operator_token: str | None,
        cost: int,
        ctx: RequestContext,
    ) -> Decision:
        if self.is_operator(operator_token):
            return Bypassed()
        token = self._verify(authorizations, ctx)
        if isinstance(token, Refusal):
            return ChallengeNeeded(token)
        if cost > token.terms.credits:
            return ChallengeNeeded(Refusal.EXHAUSTED)
        wait_s = self._token_limiter(token.token_id)
        if wait_s > 0:
            return Throttled(wait_s)
        return await self._debit(token, cost)

    def valid_token_id(self, *, authorizations: Sequence[str], now_unix: int,
                       deployment: str | None = None) -> bytes | None:
        """The token id of the request's credential if it is a valid SatRank token
        (signature, preimage, unexpired caveats), else None. Debits nothing: for routes
        that want proof of a past payment, not a new one (POST /api/report)."""
        token = self._verify(authorizations, RequestContext(now_unix=now_unix,
                                                            deployment=deployment))
        return None if isinstance(token, Refusal) else token.token_id

    def refund(self, grant: Granted) -> None:
        """Undo the debit of a Granted request whose route then failed (see api/paywall)."""
        self._ledger.refund(_debit_of(grant.token, grant.cost))

    def release(self, grant: Granted) -> None:
        """The Granted request is over (its answer sent, or it failed): call exactly once."""
        self._ledger.release(grant.token.token_id, grant.token.terms.credits)

    def _verify(self, authorizations: Sequence[str], ctx: RequestContext,
                ) -> VerifiedToken | Refusal:
        raw = tuple(authorizations)
        key = self._verified.key_of_headers(raw)
        if key is not None:
            cached = self._verified.get(key, (ctx.capability, ctx.deployment), ctx.now_unix)
            if cached is not None:
                return cached
        credential = _single_credential(authorizations)
        if isinstance(credential, Refusal):
            return credential
        key = credential_key(credential)
        cached = self._verified.get(key, (ctx.capability, ctx.deployment), ctx.now_unix)
        if cached is not None:
            if not isinstance(cached, Refusal):
                self._verified.remember_headers(raw, key)
            return cached
        try:
            token = check_caveats(authenticate_credential(credential, secrets=self._secrets),
                                  ctx)
        except VerificationFailed as exc:
            return exc.refusal
        self._verified.put(raw, key, (ctx.capability, ctx.deployment), token)
        return token

    async def _debit(self, token: VerifiedToken, cost: int) -> Decision:
        # The common case first: no Debit to build, no coroutine to wait on.
        held = self._ledger.spend_held(token.token_id, token.terms.credits, cost)
        if held is not None:
            return Granted(token, cost, held)
        left = await self._ledger.debit(_debit_of(token, cost))
        if left is Shortfall.HELD_ELSEWHERE:
            return CreditsBusy(BUSY_RETRY_AFTER_S)
        if isinstance(left, Shortfall):
            return ChallengeNeeded(Refusal.EXHAUSTED)
        return Granted(token, cost, left)


def _debit_of(token: VerifiedToken, cost: int) -> Debit:
    return Debit(token_id=token.token_id, payment_hash=token.payment_hash,
                 credits_total=token.terms.credits,
                 valid_until_unix=token.terms.valid_until_unix, cost=cost,
                 credits_minted=token.terms.minted_credits)


def _single_credential(authorizations: Sequence[str]) -> Credential | Refusal:
    """The one L402 credential of the request. Several Authorization values are fine only
    when they carry the same credential (Aperture clients send an LSAT and an L402 copy);
    otherwise the request is refused, so no valid-after-invalid ordering trick works."""
    values = [v for v in authorizations if is_l402_authorization(v)]
    if not values:
        return Refusal.MISSING
    credentials: set[Credential] = set()
    for value in values:
        try:
            credentials.add(parse_authorization(value))
        except MalformedCredential:
            return Refusal.MALFORMED
    if len(credentials) != 1:
        return Refusal.MALFORMED
    return credentials.pop()
