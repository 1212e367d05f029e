"""Robustness: hostile and random client input never breaks an answer.

1. schemathesis drives every documented operation with more examples than the contract
   test, once as the operator (paid routes run) and once as an anonymous client (402s);
   routes the app serves but the document lacks get random requests too, so every route
   is covered.
2. hypothesis drives every parser of client input: the Authorization credential, the
   macaroon and its identifier and caveats, node ids, leaderboard cursors, query integers,
   the forwarded address and API-key headers, If-None-Match, BOLT11 invoices, and JSON
   bodies and headers over real HTTP. Each parser either returns a value (that round-trips
   where there is a writer) or raises its own documented error; the server never answers
   5xx.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from starlette.routing import Route

from satrank.api.admin import has_valid_api_key
from satrank.api.app import create_app
from satrank.api.clients import client_ip, client_key
from satrank.api.cursors import MAX_CURSOR_CHARS, decode_cursor, encode_cursor
from satrank.api.errors import ApiError
from satrank.api.ids import classify_id, parse_node_id
from satrank.api.rendered import etag_matches
from satrank.config import LOOPBACK_NETWORKS, Secret, Settings
from satrank.db.admin import create_database, drop_database
from satrank.db.nodes import SORT_AXES, SortAxis, sort_key_types
from satrank.l402.caveats import CaveatFailed, RequestContext, evaluate_caveats
from satrank.l402.headers import (
    MAX_AUTHORIZATION_LEN,
    Credential,
    MalformedCredential,
    is_l402_authorization,
    parse_authorization,
)
from satrank.l402.identifier import Identifier, IdentifierError
from satrank.l402.verify import VerificationFailed, authenticate_credential
from satrank.lightning.bolt11 import InvalidPaymentRequest
from satrank.lightning.bolt11 import decode as decode_bolt11
from tests.api_seed import OPERATOR, OPERATOR_SECRET, seed
from tests.conftest import TEMPLATE_DB
from tests.live_server import live_server
from tests.simnet_api import simnet_settings
from tests.simnet_fixture import SimnetHandle

BASE = {"L402_MACAROON_SECRET": "x" * 40, "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET}
EXAMPLES = 100
PARSER_EXAMPLES = 300
QUICK = settings(max_examples=PARSER_EXAMPLES, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=300)
HEX = "0123456789abcdefABCDEF"


# --- 1. every route over HTTP -------------------------------------------------------------

@pytest.fixture(scope="module")
def served(simnet: SimnetHandle, pg_admin_dsn: str, template_dsn: str) -> Iterator[str]:
    name = f"satrank_robustness_{os.getpid()}"
    asyncio.run(drop_database(pg_admin_dsn, name))
    dsn = asyncio.run(create_database(pg_admin_dsn, name, template=TEMPLATE_DB))
    asyncio.run(seed(dsn))
    try:
        with live_server(create_app(simnet_settings(simnet, BASE), dsn)) as url:
            yield url
    finally:
        asyncio.run(drop_database(pg_admin_dsn, name))


def _no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500 or response.status_code == 503, (
        response.status_code, response.text[:300])
    if response.status_code >= 400 and response.headers.get(
            "content-type", "").startswith("application/json"):
        assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize("headers", [OPERATOR, {}], ids=["operator", "anonymous"])
def test_every_documented_operation_survives_many_examples(
    served: str, headers: dict[str, str],
) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: Case) -> None:
            case.call_and_validate(base_url=served, checks=[not_a_server_error],
                                   headers=headers)

        check()


def _served_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, documented or not."""
    app = create_app(Settings.from_environ(BASE), "postgresql://unused/unused")
    return [(method, route.path) for route in app.routes if isinstance(route, Route)
            for method in sorted(route.methods or ()) if method != "HEAD"]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=6),
    max_leaves=30,
)


def test_every_served_route_survives_random_requests(served: str) -> None:
    """Beside schemathesis: also routes the document may lack (what a client can reach is
    what the app serves, not what the document says)."""
    routes = _served_routes()
    assert {("GET", "/api/agents/top"), ("POST", "/api/deposit")} <= set(routes)
    with httpx.Client(base_url=served, timeout=30) as client:
        @QUICK
        @given(route=st.sampled_from(routes), body=JSONISH,
               segment=st.text(string.printable, min_size=1, max_size=70),
               query=st.dictionaries(st.sampled_from(["amount", "tier", "id", "limit",
                                                      "cursor", "sort_by", "alias"]),
                                     st.text(max_size=20), max_size=3),
               operator=st.booleans())
        def check(route: tuple[str, str], body: Any, segment: str, query: dict[str, str],
                  operator: bool) -> None:
            method, path = route
            concrete = path.replace("{id}", quote(segment, safe=""))
            response = client.request(method, concrete, params=query,
                                      json=body if method != "GET" else None,
                                      headers=OPERATOR if operator else {})
            _no_server_error(response)

        check()


JSON_ROUTES = ("/api/verdicts", "/api/report", "/api/probe", "/api/intent", "/api/deposit")


def test_json_bodies_and_headers_never_break_a_route(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as client:
        @QUICK
        @given(path=st.sampled_from(JSON_ROUTES), body=JSONISH,
               raw=st.binary(max_size=200), use_raw=st.booleans(),
               content_type=st.sampled_from(["application/json", "application/json; x=1",
                                             "text/plain", "application/JSON", ""]),
               operator=st.booleans())
        def post(path: str, body: Any, raw: bytes, use_raw: bool, content_type: str,
                 operator: bool) -> None:
            content = raw if use_raw else json.dumps(body).encode()
            headers = {"content-type": content_type, **(OPERATOR if operator else {})}
            _no_server_error(client.post(path, content=content, headers=headers))

        post()

        @QUICK
        @given(path=st.sampled_from(["/api/agents/top", "/api/agent/" + "02" + "0" * 63 + "1",
                                     "/api/agent/" + "02" + "0" * 63 + "1" + "/verdict",
                                     "/api/profile/" + "02" + "0" * 63 + "1", "/api/stats",
                                     "/api/health", "/metrics"]),
               name=st.sampled_from(["authorization", "x-forwarded-for", "if-none-match",
                                     "x-api-key", "content-type", "accept", "cookie"]),
               value=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                             max_size=300))
        def get(path: str, name: str, value: str) -> None:
            _no_server_error(client.get(path, headers={name: value.strip() or "x"}))

        get()


# --- 2. every parser ------------------------------------------------------------------------

@QUICK
@given(st.text(max_size=400) | st.from_regex(r"\A\s*(L402|lsat)\s+[\s\w+/=,:-]{0,300}\Z"))
def test_authorization_parser_returns_a_credential_or_refuses(value: str) -> None:
    is_l402_authorization(value)
    try:
        credential = parse_authorization(value)
    except MalformedCredential:
        return
    assert len(value) <= MAX_AUTHORIZATION_LEN and len(credential.preimage) == 32


@QUICK
@given(macaroons=st.lists(st.from_regex(r"\A[A-Za-z0-9+/]{1,60}={0,2}\Z"), min_size=1,
                          max_size=4),
       preimage=st.binary(min_size=32, max_size=32), scheme=st.sampled_from(
           ["L402", "LSAT", "l402", "Lsat"]), pad=st.sampled_from(["", " ", "  ", "\t"]))
def test_authorization_round_trips(macaroons: list[str], preimage: bytes, scheme: str,
                                   pad: str) -> None:
    header = Credential(tuple(macaroons), preimage).to_header(scheme)
    parsed = parse_authorization(pad + header.replace(":", pad + ":" + pad) + pad)
    assert parsed == Credential(tuple(macaroons), preimage)


@QUICK
@given(st.binary(max_size=120))
def test_identifier_decoder_returns_an_identifier_or_refuses(raw: bytes) -> None:
    try:
        identifier = Identifier.decode(raw)
    except IdentifierError:
        return
    assert identifier.encode() == raw


@QUICK
@given(text=st.text(max_size=300) | st.from_regex(r"\A[A-Za-z0-9+/_-]{0,300}={0,2}\Z"),
       preimage=st.binary(min_size=32, max_size=32))
def test_macaroon_decoder_refuses_junk_with_its_own_error(text: str, preimage: bytes) -> None:
    try:
        credential = Credential((text or "A",), preimage)
        authenticate_credential(credential, secrets=[b"s" * 32])
    except VerificationFailed:
        return
    raise AssertionError("a random macaroon was accepted")


@QUICK
@given(caveats=st.lists(st.text(max_size=60) | st.builds(
    "{}={}".format, st.sampled_from(["services", "valid_until", "credits", "capabilities",
                                     "satrank_credits"]),
    st.text(max_size=30)), max_size=6), now=st.integers(0, 2**40))
def test_caveat_parser_gives_terms_or_refuses(caveats: list[str], now: int) -> None:
    try:
        evaluate_caveats(caveats, RequestContext(now_unix=now, capability="profile"))
    except CaveatFailed:
        pass


@QUICK
@given(st.text(max_size=100) | st.from_regex(r"\A\s*0[0-9a-fA-F]{64,66}\s*\Z"))
def test_node_ids_parse_or_answer_400(text: str) -> None:
    parsed = classify_id(text)
    try:
        kind, value = parse_node_id(text)
    except ApiError as exc:
        assert parsed is None and exc.status == 400 and exc.code == "INVALID_ID"
        return
    assert (kind, value) == parsed and classify_id(value.upper()) == parsed


@st.composite
def _sort_keys(draw: st.DrawFn) -> tuple[SortAxis, tuple[float | int | str, ...]]:
    sort = draw(st.sampled_from(SORT_AXES))
    values: list[float | int | str] = []
    for kind in sort_key_types(sort):
        if kind == "int":
            values.append(draw(st.integers(-100, 0)))
        elif kind == "float8":
            values.append(draw(st.floats(allow_nan=False, allow_infinity=False)))
        else:
            values.append("0" + draw(st.sampled_from("23")) + draw(
                st.text(HEX[:16], min_size=64, max_size=64)))
    return sort, tuple(values)


@QUICK
@given(_sort_keys())
def test_cursors_round_trip(key: tuple[SortAxis, tuple[float | int | str, ...]]) -> None:
    sort, values = key
    cursor = encode_cursor(sort, values)
    assert len(cursor) <= MAX_CURSOR_CHARS
    assert decode_cursor(sort, cursor) == values


@QUICK
@given(sort=st.sampled_from(SORT_AXES), text=st.text(max_size=300) | st.builds(
    lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="),
    st.binary(max_size=190) | st.builds(lambda v: json.dumps(v).encode(), JSONISH)))
def test_cursor_decoder_returns_a_key_or_answers_400(sort: SortAxis, text: str) -> None:
    try:
        values = decode_cursor(sort, text)
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "INVALID_PARAMETER"
        return
    assert len(values) == len(sort_key_types(sort))


def _scope(headers: list[tuple[bytes, bytes]], peer: str = "127.0.0.1") -> dict[str, Any]:
    return {"type": "http", "headers": headers, "client": (peer, 1234)}


@QUICK
@given(values=st.lists(st.binary(max_size=120), max_size=3),
       peer=st.sampled_from(["127.0.0.1", "::1", "203.0.113.9", "2001:db8::1"]),
       trust=st.booleans(), api_key=st.binary(max_size=80))
def test_client_address_and_api_key_headers_never_raise(
    values: list[bytes], peer: str, trust: bool, api_key: bytes,
) -> None:
    headers = [(b"x-forwarded-for", v) for v in values] + [(b"x-api-key", api_key)]
    scope = _scope(headers, peer)
    proxies = LOOPBACK_NETWORKS if trust else ()
    assert isinstance(client_ip(scope, trusted_proxies=proxies), str)
    assert client_key(scope, trusted_proxies=proxies)
    assert not has_valid_api_key(scope, Secret("k" * 33)) or api_key == b"k" * 33


@QUICK
@given(HEADER_TEXT)
def test_if_none_match_never_raises(header: str) -> None:
    assert isinstance(etag_matches(header, 'W/"0123456789abcdef"'), bool)


@QUICK
@given(st.text(max_size=400) | st.builds("lnbc{}1{}".format, st.text("0123456789munp",
                                                                       max_size=12),
                                         st.text(string.ascii_lowercase + string.digits,
                                                 max_size=300)))
def test_bolt11_decoder_returns_an_invoice_or_refuses(text: str) -> None:
    try:
        decode_bolt11(text)
    except InvalidPaymentRequest:
        pass
