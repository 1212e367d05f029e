"""Who the client is: `client_ip` for checks on the address itself, `client_key` for
every per-client limit (free routes, challenge minting).

With TRUST_PROXY on and the TCP peer on loopback (our nginx), the client is the LAST
address of X-Forwarded-For: nginx appends the address it saw, and anything before it was
written by the client. Otherwise the TCP peer. Never logged (STYLE: no IPs in logs).

A limit keys an IPv6 client by its /64, since one host usually holds a whole /64 and
could otherwise rotate addresses past the limit (an IPv4-mapped address is its IPv4).
"""

from __future__ import annotations

import functools
import ipaddress

from starlette.types import Scope

UNKNOWN = "unknown"


# Parsing an address with ipaddress costs a few µs on every request; a client sends many,
# so the pure functions of the address string below remember recent answers.
_ADDRESS_CACHE = 4096


@functools.lru_cache(maxsize=_ADDRESS_CACHE)
def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _last_forwarded(scope: Scope) -> str | None:
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
    if not values:
        return None
    last = ",".join(values).split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return None


def client_ip(scope: Scope, *, trust_proxy: bool) -> str:
    client = scope.get("client")
    peer = str(client[0]) if client else UNKNOWN
    if trust_proxy and _is_loopback(peer):
        return _last_forwarded(scope) or peer
    return peer


@functools.lru_cache(maxsize=_ADDRESS_CACHE)
def address_key(address: str) -> str:
    """The limit key of a client address: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_key(scope: Scope, *, trust_proxy: bool) -> str:
    """The key every per-client limit counts this request's client under."""
    return address_key(client_ip(scope, trust_proxy=trust_proxy))
