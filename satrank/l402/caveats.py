"""First-party caveats: `condition=value` text, one satisfier per condition we understand.

Caveats we mint (in this order): `services=satrank:0`, `satrank_valid_until=<unix s>`,
`satrank_credits=<int>`, `satrank_node=<bolt11 network>:<node pubkey>`; optionally
`satrank_capabilities=<group,...>`. `satrank_node` binds the token to the deployment
whose node issued its invoice (the network prefix and payee of that invoice): another
instance sharing L402_MACAROON_SECRET (a signet staging restored from a backup) mints
tokens this one refuses. It is required, so tokens minted before it existed are refused
(DEPLOY.md, "Upgrading": they were bound to nothing). A holder may append
caveats (the signature chain covers them) but only to narrow: a repeated condition that
widens what an earlier one allowed makes the token invalid, and the last value decides.
Conditions we do not know (lnget's `preimage=<hex>`, lsat-js' `expiration=`) are skipped,
as Aperture's `VerifyL402` does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

SERVICE_NAME = "satrank"
SERVICE_TIER = 0
COND_SERVICES = "services"
COND_VALID_UNTIL = f"{SERVICE_NAME}_valid_until"
COND_CREDITS = f"{SERVICE_NAME}_credits"
COND_CAPABILITIES = f"{SERVICE_NAME}_capabilities"
COND_NODE = f"{SERVICE_NAME}_node"
MAX_CAVEAT_INT = 2**31 - 1  # credits and timestamps must fit the ledger's integer columns

T = TypeVar("T")


class Refusal(enum.Enum):
    """Why a credential does not grant the request (the middleware maps each to a code)."""

    MISSING = "MISSING"
    MALFORMED = "MALFORMED"  # not a readable L402 credential (or several different ones)
    UNKNOWN = "UNKNOWN"  # a macaroon we did not mint, or tampered with (signature fails)
    WRONG_PREIMAGE = "WRONG_PREIMAGE"  # sha256(preimage) is not the token's payment hash
    INVALID = "INVALID"  # a caveat refuses it (other service, capability, widened terms)
    EXPIRED = "EXPIRED"
    EXHAUSTED = "EXHAUSTED"


class CaveatFailed(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class Caveat:
    condition: str
    value: str

    def encode(self) -> str:
        return f"{self.condition}={self.value}"

    @classmethod
    def decode(cls, text: str) -> Caveat | None:
        """The caveat, or None when the text has no `=` (not ours to judge: skipped)."""
        condition, sep, value = text.partition("=")
        if not sep:
            return None
        return cls(condition.strip(), value.strip())


@dataclass(frozen=True)
class RequestContext:
    now_unix: int
    capability: str | None = None  # the route's capability group, None when ungrouped
    # This deployment's `satrank_node` value (from its node's GetInfo or the invoices it
    # issues); None while unknown: the binding is then not checked.
    deployment: str | None = None


@dataclass(frozen=True)
class TokenTerms:
    """What a verified token allows: the final (narrowest) value of each known caveat."""

    valid_until_unix: int
    credits: int
    capabilities: frozenset[str] | None  # None: every capability
    # The credit caveat we minted (the first one: a holder can only append): what the
    # token was paid for, whatever a narrowed copy says.
    minted_credits: int


class Satisfier(Generic[T]):
    condition: str
    required: bool = True

    def parse(self, value: str) -> T:
        raise NotImplementedError

    def narrows(self, previous: T, new: T) -> bool:
        raise NotImplementedError

    def check(self, final: T, ctx: RequestContext) -> None:
        """Raise CaveatFailed when the final value refuses the request."""


def _parse_count(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise ValueError("not a non-negative integer")
    number = int(value)
    if number > MAX_CAVEAT_INT:
        raise ValueError("out of range")
    return number


def _parse_list(value: str) -> frozenset[str]:
    items = frozenset(part.strip() for part in value.split(","))
    if not items or "" in items:
        raise ValueError("empty list item")
    return items


class ServicesSatisfier(Satisfier[frozenset[str]]):
    condition = COND_SERVICES

    def parse(self, value: str) -> frozenset[str]:
        services = _parse_list(value)
        for service in services:
            name, sep, tier = service.partition(":")
            if not name or not sep or not tier.isdigit() or int(tier) > 255:
                raise ValueError("service must be name:tier")
        return services

    def narrows(self, previous: frozenset[str], new: frozenset[str]) -> bool:
        return new <= previous

    def check(self, final: frozenset[str], ctx: RequestContext) -> None:
        if f"{SERVICE_NAME}:{SERVICE_TIER}" not in final:
            raise CaveatFailed(Refusal.INVALID, "token is not for this service")


class ValidUntilSatisfier(Satisfier[int]):
    condition = COND_VALID_UNTIL

    def parse(self, value: str) -> int:
        return _parse_count(value)

    def narrows(self, previous: int, new: int) -> bool:
        return new <= previous

    def check(self, final: int, ctx: RequestContext) -> None:
        if ctx.now_unix >= final:
            raise CaveatFailed(Refusal.EXPIRED, "token expired")


class CreditsSatisfier(Satisfier[int]):
    condition = COND_CREDITS

    def parse(self, value: str) -> int:
        credits = _parse_count(value)
        if credits < 1:
            raise ValueError("credits must be positive")
        return credits

    def narrows(self, previous: int, new: int) -> bool:
        return new <= previous


class CapabilitiesSatisfier(Satisfier[frozenset[str]]):
    condition = COND_CAPABILITIES
    required = False

    def parse(self, value: str) -> frozenset[str]:
        return _parse_list(value)

    def narrows(self, previous: frozenset[str], new: frozenset[str]) -> bool:
        return new <= previous

    def check(self, final: frozenset[str], ctx: RequestContext) -> None:
        if ctx.capability is not None and ctx.capability not in final:
            raise CaveatFailed(Refusal.INVALID, "token does not cover this capability")


class NodeSatisfier(Satisfier[str]):
    condition = COND_NODE

    def parse(self, value: str) -> str:
        network, sep, pubkey = value.partition(":")
        if (not sep or not network.isascii() or not network.isalpha() or len(network) > 8
                or len(pubkey) != 66 or not all(c in "0123456789abcdef" for c in pubkey)):
            raise ValueError("node must be <network>:<66 lower-case hex>")
        return value

    def narrows(self, previous: str, new: str) -> bool:
        return new == previous

    def check(self, final: str, ctx: RequestContext) -> None:
        if ctx.deployment is not None and final != ctx.deployment:
            raise CaveatFailed(Refusal.INVALID, "token was issued by another deployment")


SATISFIERS: dict[str, Satisfier[Any]] = {
    s.condition: s
    for s in (ServicesSatisfier(), ValidUntilSatisfier(), CreditsSatisfier(),
              NodeSatisfier(), CapabilitiesSatisfier())
}


def deployment_of(network: str, node_pubkey: str) -> str:
    """The `satrank_node` value of a deployment: its invoices' network prefix ("bc",
    "tb", "bcrt", ...) and its node's public key."""
    return f"{network}:{node_pubkey.lower()}"


def minted_caveats(*, valid_until_unix: int, credits: int, deployment: str,
                   capabilities: Iterable[str] = ()) -> list[Caveat]:
    """The caveats a new token carries, in Aperture's order (services first)."""
    caveats = [
        Caveat(COND_SERVICES, f"{SERVICE_NAME}:{SERVICE_TIER}"),
        Caveat(COND_VALID_UNTIL, str(valid_until_unix)),
        Caveat(COND_CREDITS, str(credits)),
        Caveat(COND_NODE, deployment),
    ]
    groups = sorted(set(capabilities))
    if groups:
        caveats.append(Caveat(COND_CAPABILITIES, ",".join(groups)))
    return caveats


def evaluate_caveats(texts: Iterable[str], ctx: RequestContext) -> TokenTerms:
    """Check every known caveat (narrowing, then the final value) and return the terms.

    Raises CaveatFailed(INVALID) for a malformed or widening known caveat or a missing
    required one, CaveatFailed(EXPIRED) when the validity has passed.
    """
    finals: dict[str, Any] = {}
    firsts: dict[str, Any] = {}
    for text in texts:
        caveat = Caveat.decode(text)
        if caveat is None or caveat.condition not in SATISFIERS:
            continue
        satisfier = SATISFIERS[caveat.condition]
        try:
            value = satisfier.parse(caveat.value)
        except ValueError as exc:
            raise CaveatFailed(Refusal.INVALID, f"malformed {caveat.condition}") from exc
        if caveat.condition in finals and not satisfier.narrows(finals[caveat.condition], value):
            raise CaveatFailed(Refusal.INVALID, f"{caveat.condition} may only narrow")
        finals[caveat.condition] = value
        firsts.setdefault(caveat.condition, value)
    for condition, satisfier in SATISFIERS.items():
        if condition not in finals:
            if satisfier.required:
                raise CaveatFailed(Refusal.INVALID, f"missing {condition}")
            continue
        satisfier.check(finals[condition], ctx)
    return TokenTerms(
        valid_until_unix=finals[COND_VALID_UNTIL],
        credits=finals[COND_CREDITS],
        capabilities=finals.get(COND_CAPABILITIES),
        minted_credits=firsts[COND_CREDITS],
    )
