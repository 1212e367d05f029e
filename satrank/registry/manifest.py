"""Reading a registered host's /.well-known/l402.json: its provider key (the ownership
claim of its services) and its other paid resources, in the shape SatRank publishes its
own (api/routes/well_known_l402.py): `{"provider": {"node"|"pubkey"}, "resources":
[{"method", "url"|"path", "priceSat"|"price_sat", "name"?, "description"?,
"responseSchema"?}], "openapi"?}`: a resource's `responseSchema` (a JSON Schema object) and
the OpenAPI document `openapi` links (on the same host) declare what a delivered body must
look like (registry/quality.py).

A manifest speaks only for its own host: resources on another host are ignored, so no
host can enrol another in the registry. Bounded: MAX_RESOURCES entries, and each passes
the same URL checks as a registration (catalogue.endpoint).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from satrank.registry import catalogue
from satrank.registry.catalogue import InvalidEndpoint

WELL_KNOWN_PATH = "/.well-known/l402.json"
# The header a service's 402 may carry with its provider key, in the manifest's form.
PROVIDER_KEY_HEADER = "L402-Provider-Key"
PROVIDER_KEY_MISMATCH = "challenge:PROVIDER_KEY_MISMATCH"
MAX_RESOURCES = 50
_PUBKEY = re.compile(r"(?:[a-z]+:)?(0[23][0-9a-f]{64})")  # `bcrt:02ab...` as SatRank writes it


@dataclass(frozen=True)
class ManifestResource:
    url: str
    method: str
    price_sat: int | None
    name: str | None
    description: str | None
    response_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Manifest:
    provider_pubkey: str | None
    resources: tuple[ManifestResource, ...]
    openapi_url: str | None = None  # the host's OpenAPI document, if the manifest links one


def manifest_url(service_url: str) -> str:
    return str(httpx.URL(service_url).copy_with(path=WELL_KNOWN_PATH, query=None))


def parse_manifest(body: bytes, service_url: str, *, allow_private: bool) -> Manifest | None:
    """The manifest in `body`, fetched from the host of `service_url`; None if unreadable."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    base = httpx.URL(service_url)
    resources: list[ManifestResource] = []
    listed = doc.get("resources")
    for entry in listed[:MAX_RESOURCES] if isinstance(listed, list) else []:
        resource = _resource(entry, base, allow_private=allow_private)
        if resource is not None:
            resources.append(resource)
    return Manifest(_provider_pubkey(doc.get("provider")), tuple(resources),
                    _same_host_url(doc.get("openapi"), base, allow_private=allow_private))


def _same_host_url(raw: Any, base: httpx.URL, *, allow_private: bool) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        where = catalogue.endpoint(str(base.join(raw)), allow_private=allow_private)
    except (InvalidEndpoint, httpx.InvalidURL):
        return None
    if where.host != (base.host or "").lower() or httpx.URL(where.url).port != base.port:
        return None
    return where.url


def provider_key(value: Any) -> str | None:
    """The node pubkey in `value` (`02ab...` or `bcrt:02ab...`), None if it holds none."""
    if isinstance(value, str) and (found := _PUBKEY.fullmatch(value.strip().lower())):
        return found.group(1)
    return None


def ownership(manifest_key: str | None, header_key: str | None) -> tuple[str | None,
                                                                         str | None]:
    """(the owner a check claims, the reason against it): the manifest's provider key and
    the one the endpoint's 402 carries each claim the endpoint alone; when both are given
    they must agree, else nobody is claimed and the mismatch is a reason."""
    if manifest_key is not None and header_key is not None and manifest_key != header_key:
        return None, PROVIDER_KEY_MISMATCH
    return manifest_key or header_key, None


def _provider_pubkey(provider: Any) -> str | None:
    if not isinstance(provider, dict):
        return None
    return next((key for key in map(provider_key, (provider.get("pubkey"),
                                                   provider.get("node"))) if key), None)


def _resource(entry: Any, base: httpx.URL, *, allow_private: bool) -> ManifestResource | None:
    if not isinstance(entry, dict):
        return None
    raw = entry.get("url") or entry.get("path")
    if not isinstance(raw, str) or "{" in raw:  # a template, not a URL we can call
        return None
    url = _same_host_url(raw, base, allow_private=allow_private)
    try:
        method = catalogue.method(entry.get("method", "GET"))
    except InvalidEndpoint:
        return None
    if url is None:
        return None
    price = entry.get("priceSat", entry.get("price_sat"))
    if isinstance(price, bool) or not isinstance(price, int) or price < 0:
        price = None
    schema = entry.get("responseSchema", entry.get("response_schema"))
    return ManifestResource(url, method, price, _text(entry.get("name"), 100),
                            _text(entry.get("description"), 1000),
                            schema if isinstance(schema, dict) else None)


def _text(value: Any, max_len: int) -> str | None:
    return value.strip()[:max_len] or None if isinstance(value, str) else None
