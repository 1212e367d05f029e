"""Unit: reading a host's /.well-known/l402.json (registry/manifest.py)."""

from __future__ import annotations

import json

from satrank.registry.manifest import (
    Manifest,
    manifest_url,
    ownership,
    parse_manifest,
    provider_key,
)

SERVICE = "https://api.example/v1/paid?x=1"
PUBKEY = "02" + "ab" * 32


def parse(doc: object, *, allow_private: bool = False) -> Manifest | None:
    return parse_manifest(json.dumps(doc).encode(), SERVICE, allow_private=allow_private)


def test_the_manifest_lives_at_the_hosts_well_known_path() -> None:
    assert manifest_url(SERVICE) == "https://api.example/.well-known/l402.json"


def test_resources_on_the_host_are_read_with_prices_and_the_provider_key() -> None:
    manifest = parse({"provider": {"node": f"bcrt:{PUBKEY}"}, "resources": [
        {"method": "get", "path": "/v1/other", "priceSat": 5, "name": " Other "},
        {"method": "POST", "url": "https://api.example/v1/post", "price_sat": 7},
    ]})
    assert manifest is not None
    assert manifest.provider_pubkey == PUBKEY
    assert [(r.url, r.method, r.price_sat, r.name) for r in manifest.resources] == [
        ("https://api.example/v1/other", "GET", 5, "Other"),
        ("https://api.example/v1/post", "POST", 7, None)]


def test_a_manifest_cannot_enrol_other_hosts_or_unsafe_urls() -> None:
    manifest = parse({"resources": [
        {"url": "https://victim.example/v1"},  # another host
        {"url": "https://api.example:8443/v1"},  # another port
        {"url": "http://api.example/v1"},  # plain http
        {"url": "https://169.254.169.254/v1"},
        {"path": "/api/profile/{id}"},  # a template
        {"path": "/v1/x", "method": "TRACE"},
        {"path": "/v1/x", "priceSat": True},
        "not an object",
    ]})
    assert manifest is not None
    assert [(r.url, r.price_sat) for r in manifest.resources] == [
        ("https://api.example/v1/x", None)]


def test_unreadable_documents_are_none_and_bad_fields_are_ignored() -> None:
    for body in (b"not json", b"[1, 2]", b"[" * 5000):
        assert parse_manifest(body, SERVICE, allow_private=False) is None
    manifest = parse({"provider": {"pubkey": "not a key"}, "resources": "none"})
    assert manifest is not None and manifest.provider_pubkey is None
    assert manifest.resources == ()


def test_only_the_first_fifty_resources_are_read() -> None:
    manifest = parse({"resources": [{"path": f"/r{i}"} for i in range(500)]})
    assert manifest is not None and len(manifest.resources) == 50


def test_ownership_of_the_manifest_key_and_the_challenge_header() -> None:
    a, b = "02" + "aa" * 32, "03" + "bb" * 32
    assert provider_key("bcrt:" + a.upper()) == a and provider_key("nope") is None
    assert ownership(a, a) == (a, None)
    assert ownership(a, None) == (a, None)
    assert ownership(None, b) == (b, None)
    assert ownership(a, b) == (None, "challenge:PROVIDER_KEY_MISMATCH")
    assert ownership(None, None) == (None, None)
