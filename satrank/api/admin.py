"""Who may reach the operator's routes (today GET /metrics): a client on this machine
(Prometheus scrapes from here), or anyone sending `X-API-Key` equal to API_KEY, compared
in constant time. The one place the API key is checked."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.types import Scope

from satrank.api.clients import client_ip
from satrank.config import Secret

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


def client_is_loopback(scope: Scope, *, trust_proxy: bool) -> bool:
    """Is the client (the TCP peer, or behind our own proxy the address it forwarded) on
    this machine?"""
    try:
        return ipaddress.ip_address(client_ip(scope, trust_proxy=trust_proxy)).is_loopback
    except ValueError:
        return False


def admin_allowed(scope: Scope, *, api_key: Secret | None, trust_proxy: bool) -> bool:
    return client_is_loopback(scope, trust_proxy=trust_proxy) or has_valid_api_key(scope,
                                                                                    api_key)
