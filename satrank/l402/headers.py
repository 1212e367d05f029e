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


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate: L402 macaroon="...", invoice="..."` offer, as a client reads it."""

    scheme: str
    macaroon: str
    invoice: str


MAX_CHALLENGE_LEN = 8192  # a macaroon of MAX_MACAROON_LEN plus an invoice of 4,096


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _challenge_params(text: str) -> dict[str, str]:
    """`key="value"` pairs separated by commas, read left to right in one pass by index
    (values are quoted strings without escapes, as Aperture and we write them)."""
    params: dict[str, str] = {}
    pos = _skip_spaces(text, 0)
    while pos < len(text):
        eq = text.find("=", pos)
        quote = _skip_spaces(text, eq + 1) if eq >= 0 else len(text)
        if quote >= len(text) or text[quote] != '"':
            raise MalformedCredential('challenge parameters must be key="value"')
        end = text.find('"', quote + 1)
        if end < 0:
            raise MalformedCredential("unterminated quoted value in challenge")
        params[text[pos:eq].strip().lower()] = text[quote + 1:end]
        pos = _skip_spaces(text, end + 1)
        if pos < len(text):
            if text[pos] != ",":
                raise MalformedCredential("challenge parameters must be separated by commas")
            pos = _skip_spaces(text, pos + 1)
    return params


def parse_challenge(value: str) -> Challenge:
    """The L402/LSAT offer in one WWW-Authenticate value; MalformedCredential otherwise."""
    if len(value) > MAX_CHALLENGE_LEN:
        raise MalformedCredential("challenge too long")
    text = value.strip()
    rest = _after_scheme(text)
    if not rest:
        raise MalformedCredential("not an L402 challenge")
    params = _challenge_params(rest)
    macaroon, invoice = params.get("macaroon", ""), params.get("invoice", "")
    if not _BASE64.match(macaroon) or not invoice:
        raise MalformedCredential("challenge without macaroon and invoice")
    return Challenge(text[:_SCHEME_LEN].upper(), macaroon, invoice)
