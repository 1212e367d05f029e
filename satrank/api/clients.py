"""Who the client is: `client_ip` for checks on the address itself, `client_key` for
every per-client limit (free routes, challenge minting, reports).

When the TCP peer is one of TRUSTED_PROXIES (our nginx on loopback, the Docker bridge
behind compose), the client is found in X-Forwarded-For, read from the right: each
trusted proxy appends the address it saw, so the first address from the right that is
not itself a trusted proxy is the client; anything to its left was written by the client
and is ignored. Otherwise the client is the TCP peer. Never logged (STYLE: no IPs in logs).

A limit keys an IPv6 client by its /64, since one host usually holds a whole /64 and
could otherwise rotate addresses past the limit (an IPv4-mapped address is its IPv4).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

from satrank.config import ProxyNetwork

UNKNOWN = "unknown"
# Proxies we would believe in one chain; a longer header is the client's own writing.
MAX_FORWARDED_HOPS = 8

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


# Parsing an address with ipaddress costs a few µs on every request; a client sends many,
# so the pure functions of the address string below remember recent answers.
_ADDRESS_CACHE = 4096


@functools.lru_cache(maxsize=_ADDRESS_CACHE)
def _address(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_trusted(ip: Address | None, proxies: Sequence[ProxyNetwork]) -> bool:
    return ip is not None and any(ip in network for network in proxies)


def client_ip(scope: Scope, *, trusted_proxies: Sequence[ProxyNetwork]) -> str:
    client = scope.get("client")
    peer = str(client[0]) if client else UNKNOWN
    if not trusted_proxies or not _is_trusted(_address(peer), trusted_proxies):
        return peer
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
    found = peer
    for hop in reversed(",".join(values).rsplit(",", MAX_FORWARDED_HOPS)[-MAX_FORWARDED_HOPS:]):
        ip = _address(hop)
        if ip is None:
            break  # garbage: the proxy after it is the last address we can vouch for
        found = str(ip)
        if not _is_trusted(ip, trusted_proxies):
            break
    return found


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


def client_key(scope: Scope, *, trusted_proxies: Sequence[ProxyNetwork]) -> str:
    """The key every per-client limit counts this request's client under."""
    return address_key(client_ip(scope, trusted_proxies=trusted_proxies))
