"""Who the client is, for rate limits: the TCP peer, or our own proxy's X-Forwarded-For.

With TRUST_PROXY on and the TCP peer on loopback (our nginx), the client is the LAST
address of X-Forwarded-For: nginx appends the address it saw, and anything before it was
written by the client. Otherwise the TCP peer. Never logged (STYLE: no IPs in logs).
"""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

from satrank.config import Settings

UNKNOWN = "unknown"


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


def client_ip(scope: Scope, settings: Settings) -> str:
    client = scope.get("client")
    peer = str(client[0]) if client else UNKNOWN
    if settings.api.trust_proxy and _is_loopback(peer):
        return _last_forwarded(scope) or peer
    return peer
