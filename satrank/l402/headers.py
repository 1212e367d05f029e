"""`WWW-Authenticate` challenges and `Authorization` credentials, as text <-> value objects.

Challenge, exactly as Aperture sends it and every client we know parses it:

    L402 macaroon="<standard base64, padded>", invoice="<bolt11>"

(plus the same with scheme `LSAT` for pre-2024 clients). Never the new-spec `token=` form
first: lnget, l402-requests and lsat-js need `macaroon=` right after the scheme.

Credential: `L402 <mac>[,<mac>...]:<preimage hex>`; `LSAT` too, any case, extra spaces,
upper-case hex. Sizes are bounded before any work is done, and the credential is read by
splitting at its one `:` and its commas, never by a pattern with adjacent quantifiers over
overlapping classes: the regex this replaces (whitespace runs around a lazy `[^:]*?`)
backtracked polynomially, and 187 bytes of spaces and colons held an event loop for
seconds. Every step here is one linear pass over at most MAX_AUTHORIZATION_LEN characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMES = ("L402", "LSAT")
PREIMAGE_SIZE = 32
MAX_AUTHORIZATION_LEN = 4096
MAX_MACAROONS = 4
MAX_MACAROON_LEN = 2048

_SCHEME_LEN = 4  # both schemes
_BASE64 = re.compile(r"\A[A-Za-z0-9+/_-]+={0,2}\Z")  # one class, then a bounded tail
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class MalformedCredential(ValueError):
    """The Authorization value is not an L402/LSAT credential we can read."""


@dataclass(frozen=True)
class Credential:
    macaroons: tuple[str, ...]  # base64 text as sent; the first is the token
    preimage: bytes

    def __post_init__(self) -> None:
        if not self.macaroons:
            raise MalformedCredential("no macaroon")
        if len(self.preimage) != PREIMAGE_SIZE:
            raise MalformedCredential(f"preimage must be {PREIMAGE_SIZE} bytes")

    def to_header(self, scheme: str = "L402") -> str:
        return f"{scheme} {','.join(self.macaroons)}:{self.preimage.hex()}"


def _after_scheme(text: str) -> str | None:
    """What follows a leading `L402`/`LSAT` (any case) in `text`, whose leading whitespace
    is already stripped; None when the text does not start with a scheme as a whole word."""
    scheme, rest = text[:_SCHEME_LEN], text[_SCHEME_LEN:]
    if not scheme.isascii() or scheme.upper() not in SCHEMES:
        return None
    if rest and not rest[0].isspace():
        return None  # `L402x...` is another scheme
    return rest


def is_l402_authorization(value: str) -> bool:
    """Whether the value claims the L402/LSAT scheme (so it is ours to accept or refuse)."""
    return _after_scheme(value[:16].lstrip()) is not None


def parse_authorization(value: str) -> Credential:
    """The credential in an Authorization value; MalformedCredential for anything else."""
    if len(value) > MAX_AUTHORIZATION_LEN:
        raise MalformedCredential("authorization value too long")
    rest = _after_scheme(value.strip())
    if not rest:  # no scheme, or nothing after it
        raise MalformedCredential("not `L402 <macaroon>:<preimage>`")
    macaroon_list, colon, preimage_hex = rest.partition(":")
    if not colon or ":" in preimage_hex:
        raise MalformedCredential("not `L402 <macaroon>:<preimage>`")
    preimage_hex = preimage_hex.strip()
    if len(preimage_hex) != 2 * PREIMAGE_SIZE or not _HEX_DIGITS.issuperset(preimage_hex):
        raise MalformedCredential("preimage must be 64 hex characters")
    if macaroon_list.count(",") >= MAX_MACAROONS:
        raise MalformedCredential("too many macaroons")
    macaroons = tuple(part.strip() for part in macaroon_list.split(","))
    for mac in macaroons:
        if len(mac) > MAX_MACAROON_LEN or not _BASE64.match(mac):
            raise MalformedCredential("macaroon is not base64")
    return Credential(macaroons, bytes.fromhex(preimage_hex))


def build_challenge(macaroon_b64: str, invoice: str, scheme: str = "L402") -> str:
    """One WWW-Authenticate value in the Aperture form (field order and spacing matter)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    if not _BASE64.match(macaroon_b64) or '"' in invoice or not invoice.isascii():
        raise ValueError("challenge values must be quotable ASCII")
    return f'{scheme} macaroon="{macaroon_b64}", invoice="{invoice}"'


MAX_CHALLENGE_LEN = 8192


class MalformedChallenge(ValueError):
    """A WWW-Authenticate value that is not an L402/LSAT challenge we can read."""


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "L402" or "LSAT", upper case
    macaroon: str  # base64 text as sent
    invoice: str  # BOLT 11 text as sent


def parse_challenge(value: str) -> Challenge:
    """The challenge in one WWW-Authenticate value: the Aperture form above and the variants
    real clients accept: scheme `LSAT` or any case, `token=` for `macaroon=` (the newer
    spec's name), parameters in any order, names in any case, spaces around `=` and `,`,
    unquoted values. One linear pass after a length check (a third party's header)."""
    if len(value) > MAX_CHALLENGE_LEN:
        raise MalformedChallenge("challenge too long")
    text = value.strip()
    rest = _after_scheme(text)
    if rest is None:
        raise MalformedChallenge("not an L402 or LSAT challenge")
    params: dict[str, str] = {}
    for part in rest.split(","):  # base64 and bech32 values never hold a comma or a quote
        name, equals, raw = part.partition("=")
        if not equals:
            if part.strip():
                raise MalformedChallenge("a parameter without a value")
            continue
        params[name.strip().lower()] = raw.strip().strip('"').strip()
    macaroon = params.get("macaroon") or params.get("token") or ""
    invoice = params.get("invoice", "")
    if not macaroon or not _BASE64.match(macaroon) or len(macaroon) > MAX_MACAROON_LEN:
        raise MalformedChallenge("macaroon missing or not base64")
    if not invoice or not invoice.isascii() or not invoice.isalnum():
        raise MalformedChallenge("invoice missing or not BOLT 11 text")
    return Challenge(text[:_SCHEME_LEN].upper(), macaroon, invoice)
