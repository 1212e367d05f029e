"""What a registered endpoint may look like: its URL, method and category, checked the
same way by POST /api/services and by the job that adds resources from a host's
/.well-known/l402.json. Pure values; the egress policy checks addresses again at fetch
time (a name may resolve elsewhere later)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

from satrank.registry.egress import address_refusal

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CATEGORIES = ("ai", "data", "search", "media", "finance", "lightning", "storage", "compute",
              "messaging", "news", "weather", "tools", "other")
MAX_URL_LEN = 2048
MAX_NAME_LEN = 100
MAX_DESCRIPTION_LEN = 1000


class InvalidEndpoint(ValueError):
    """A URL, method or category the registry does not list; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    url: str  # normalised: scheme and host in lower case, no fragment
    host: str


def endpoint(url: str, *, allow_private: bool) -> Endpoint:
    """`url` as the registry stores it, or InvalidEndpoint: https (http only for private
    deployments), a host name or public address, no credentials, no fragment."""
    if not url or len(url) > MAX_URL_LEN or not url.isascii() or url != url.strip():
        raise InvalidEndpoint(f"an absolute https URL of at most {MAX_URL_LEN} ASCII characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise InvalidEndpoint("an absolute https URL") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes or not parsed.host:
        raise InvalidEndpoint("an absolute https URL")
    if parsed.userinfo or parsed.fragment:
        raise InvalidEndpoint("a URL without credentials or fragment")
    try:
        literal = ipaddress.ip_address(parsed.host)
    except ValueError:
        literal = None
    if literal is not None and address_refusal(literal, allow_private=allow_private):
        raise InvalidEndpoint("a URL whose host is a public address or a name")
    if literal is None and "." not in parsed.host and not allow_private:
        raise InvalidEndpoint("a URL whose host is a fully qualified name")
    normal = parsed.copy_with(fragment=None)
    return Endpoint(str(normal), parsed.host.lower())


def method(value: object) -> str:
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise InvalidEndpoint("one of " + ", ".join(METHODS))
    return value.upper()


def category(value: object) -> str:
    if value not in CATEGORIES:
        raise InvalidEndpoint("one of " + ", ".join(CATEGORIES))
    assert isinstance(value, str)
    return value
