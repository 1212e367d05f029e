"""Integration (property): whatever the Authorization header, no 5xx and no unpaid 200.

The server runs once for the module; hypothesis drives real HTTP requests at it. A 200 is
allowed only when the header still carries the one paid credential (same macaroon, up to
its unsigned location hint; same preimage) after the mutation.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymacaroons import Macaroon

from satrank.db.admin import create_database, drop_database
from satrank.l402.headers import MalformedCredential, parse_authorization
from tests.l402_support import PreimageIssuer, serve_paid_app
from tests.test_paywall import CHALLENGE, PROFILE

HEADER_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@pytest.fixture(scope="module")
def module_db(pg_admin_dsn: str, template_dsn: str) -> Iterator[str]:
    name = f"satrank_l402_property_{os.getpid()}"
    asyncio.run(drop_database(pg_admin_dsn, name))
    dsn = asyncio.run(create_database(pg_admin_dsn, name, template="satrank_template"))
    yield dsn
    asyncio.run(drop_database(pg_admin_dsn, name))


@pytest.fixture(scope="module")
def server(module_db: str) -> Iterator[tuple[httpx.Client, str, str, str]]:
    issuer = PreimageIssuer()
    with serve_paid_app(module_db, issuer, {"L402_CHALLENGE_CREDITS": "1000000"}) as base:
        client = httpx.Client(base_url=base, timeout=30)
        first, second = client.get(PROFILE), client.get(PROFILE)
        mac, invoice = CHALLENGE.match(first.headers.get_list("www-authenticate")[0]).groups()
        _, other_invoice = CHALLENGE.match(
            second.headers.get_list("www-authenticate")[0]).groups()
        preimage = issuer.pay(invoice).hex()
        # the 200 branch of the property is reachable: the paid credential is served
        assert client.get(PROFILE, headers={"Authorization": f"L402 {mac}:{preimage}"}) \
            .status_code == 200
        yield client, mac, preimage, issuer.pay(other_invoice).hex()
        client.close()


def _signed_parts(raw: bytes) -> tuple[bytes, tuple[bytes, ...], bytes] | None:
    """Identifier, caveats and signature: what a macaroon's HMAC chain covers. Its
    location is an unsigned hint (anyone may rewrite it without gaining anything)."""
    try:
        macaroon = Macaroon.deserialize(base64.urlsafe_b64encode(raw).decode())
    except Exception:  # pymacaroons raises many types on malformed input
        return None
    return (macaroon.identifier_bytes, tuple(c.caveat_id_bytes for c in macaroon.caveats),
            macaroon.signature_bytes)


def _is_the_paid_credential(header: str, mac: str, preimage: str) -> bool:
    try:
        credential = parse_authorization(header)
        sent = base64.b64decode(credential.macaroons[0].translate(str.maketrans("-_", "+/"))
                                + "==")
    except (MalformedCredential, binascii.Error):
        return False
    paid = base64.b64decode(mac)
    same = sent == paid or (_signed_parts(sent) or 0) == _signed_parts(paid)
    return same and credential.preimage.hex() == preimage


@st.composite
def headers(draw: st.DrawFn, mac: str, preimage: str, other: str) -> str:
    if draw(st.integers(0, 4)) == 0:  # the paid credential, as various clients send it
        scheme = draw(st.sampled_from(["L402", "LSAT", "l402", "lsat"]))
        return f"{scheme}{draw(st.sampled_from([' ', '   ']))}{mac}:{preimage}"
    scheme = draw(st.sampled_from(["L402", "LSAT", "l402", "lSaT", "Bearer", "L402x", ""]))
    sep = draw(st.sampled_from([" ", "  ", "\t", ""]))
    body = draw(st.sampled_from([mac, mac.rstrip("="), mac[:-4], "deposit", ""]))
    if draw(st.booleans()):
        at = draw(st.integers(0, max(0, len(body) - 1)))
        body = body[:at] + draw(st.text(HEADER_CHARS, max_size=3)) + body[at + 1:]
    pre = draw(st.sampled_from([preimage, preimage.upper(), other, preimage[:-2], "x",
                                "0" * 64]))
    colon = draw(st.sampled_from([":", " : ", "::", ""]))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(HEADER_CHARS, max_size=200))
    return f"{scheme}{sep}{body}{colon}{pre}"


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_5xx_and_no_unpaid_200(server: tuple[httpx.Client, str, str, str],
                                  data: st.DataObject) -> None:
    client, mac, preimage, other = server
    header = data.draw(headers(mac, preimage, other)).strip()
    response = client.get(PROFILE, headers={"Authorization": header})
    assert response.status_code < 500
    if response.status_code == 200:
        assert _is_the_paid_credential(header, mac, preimage)
    else:
        assert response.status_code == 402
