"""Who may reach the operator's routes (today GET /metrics): a client on this machine
(Prometheus scrapes from here), or anyone sending `X-API-Key` equal to API_KEY, compared
in constant time. The one place the API key is checked."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

from satrank.api.clients import client_ip
from satrank.config import ProxyNetwork, Secret

HEADER = b"x-api-key"


def has_valid_api_key(scope: Scope, api_key: Secret | None) -> bool:
    """False when API_KEY is unset (admin access only from loopback) or the header
    does not match."""
    if api_key is None:
        return False
    sent = next((v for k, v in scope["headers"] if k == HEADER), None)
    if sent is None:
        return False
    # as Starlette reads headers (latin-1), compared as UTF-8 text
    return hmac.compare_digest(sent.decode("latin-1").encode(), api_key.reveal().encode())


def client_is_loopback(scope: Scope, *, trusted_proxies: Sequence[ProxyNetwork]) -> bool:
    """Is the client (the TCP peer, or behind our own proxy the address it forwarded) on
    this machine?"""
    try:
        address = client_ip(scope, trusted_proxies=trusted_proxies)
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def admin_allowed(scope: Scope, *, api_key: Secret | None,
                  trusted_proxies: Sequence[ProxyNetwork]) -> bool:
    return (client_is_loopback(scope, trusted_proxies=trusted_proxies)
            or has_valid_api_key(scope, api_key))
