"""`WWW-Authenticate` challenges and `Authorization` credentials, as text <-> value objects.

Challenge, exactly as Aperture sends it and every client we know parses it:

    L402 macaroon="<standard base64, padded>", invoice="<bolt11>"

(plus the same with scheme `LSAT` for pre-2024 clients). Never the new-spec `token=` form
first: lnget, l402-requests and lsat-js need `macaroon=` right after the scheme.

Credential: `L402 <mac>[,<mac>...]:<preimage hex>`; `LSAT` too, any case, extra spaces,
upper-case hex. Sizes are bounded before any work is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMES = ("L402", "LSAT")
PREIMAGE_SIZE = 32
MAX_AUTHORIZATION_LEN = 4096
MAX_MACAROONS = 4
MAX_MACAROON_LEN = 2048

_CREDENTIAL = re.compile(r"\A\s*(L402|LSAT)\s+([^:]*?)\s*:\s*([^:]*?)\s*\Z", re.IGNORECASE)
_BASE64 = re.compile(r"\A[A-Za-z0-9+/_-]+={0,2}\Z")
_PREIMAGE_HEX = re.compile(r"\A[0-9a-fA-F]{64}\Z")
_SCHEME_PREFIX = re.compile(r"\A\s*(L402|LSAT)(\s|\Z)", re.IGNORECASE)


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


def is_l402_authorization(value: str) -> bool:
    """Whether the value claims the L402/LSAT scheme (so it is ours to accept or refuse)."""
    return _SCHEME_PREFIX.match(value[:16]) is not None


def parse_authorization(value: str) -> Credential:
    """The credential in an Authorization value; MalformedCredential for anything else."""
    if len(value) > MAX_AUTHORIZATION_LEN:
        raise MalformedCredential("authorization value too long")
    match = _CREDENTIAL.match(value)
    if match is None:
        raise MalformedCredential("not `L402 <macaroon>:<preimage>`")
    macaroon_list, preimage_hex = match.group(2), match.group(3)
    macaroons = tuple(part.strip() for part in macaroon_list.split(","))
    if len(macaroons) > MAX_MACAROONS:
        raise MalformedCredential("too many macaroons")
    for mac in macaroons:
        if len(mac) > MAX_MACAROON_LEN or not _BASE64.match(mac):
            raise MalformedCredential("macaroon is not base64")
    if not _PREIMAGE_HEX.match(preimage_hex):
        raise MalformedCredential("preimage must be 64 hex characters")
    return Credential(macaroons, bytes.fromhex(preimage_hex))


def build_challenge(macaroon_b64: str, invoice: str, scheme: str = "L402") -> str:
    """One WWW-Authenticate value in the Aperture form (field order and spacing matter)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    if not _BASE64.match(macaroon_b64) or '"' in invoice or not invoice.isascii():
        raise ValueError("challenge values must be quotable ASCII")
    return f'{scheme} macaroon="{macaroon_b64}", invoice="{invoice}"'
