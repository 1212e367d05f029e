"""Unit: the client's pure parts (caps windows, challenge reading, the deposit decision)
and its CREDITS_BUSY wait, against a stand-in server that answers as the paywall does."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank.client import (
    AsyncSatRankClient,
    SatRankClient,
    SpendingCapExceeded,
    SpendingCaps,
)
from satrank.client.payer import Tier, deposit_amount
from satrank.l402.headers import (
    MAX_CHALLENGE_LEN,
    MalformedCredential,
    build_challenge,
    parse_challenge,
)
from tests.hostile import LINEAR_SLACK, Case, superlinear_growth
from tests.live_server import live_server

TIERS = [Tier(21, 1.0), Tier(1_000, 0.5), Tier(10_000, 0.2), Tier(100_000, 0.1)]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_caps_count_reservations_in_rolling_windows() -> None:
    clock = Clock()
    caps = SpendingCaps(per_request_sat=40, per_hour_sat=100, per_day_sat=120, clock=clock)
    with pytest.raises(SpendingCapExceeded) as big:
        caps.reserve(41)
    assert big.value.cap == "per-request"
    first = caps.reserve(40)
    caps.settle(first, 31)  # it cost less than its budget
    second = caps.reserve(40)
    third = caps.reserve(29)  # 31 + 40 + 29 = 100: exactly the hourly cap
    with pytest.raises(SpendingCapExceeded) as hourly:
        caps.reserve(1)
    assert (hourly.value.cap, hourly.value.spent_sat) == ("hourly", 100)
    caps.release(second)  # the wallet said nothing was paid
    caps.reserve(40)
    clock.now += 3601
    caps.settle(third, 29)
    with pytest.raises(SpendingCapExceeded) as daily:
        caps.reserve(40)  # a new hour, but 100 sat in the day already
    assert (daily.value.cap, daily.value.spent_sat) == ("daily", 100)
    clock.now += 86400
    assert caps.spent(86400) == 0 and caps.room_sat() == 40


def test_caps_from_env_refuse_no_cap_and_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SATRANK_MAX_SAT_PER_REQUEST"):
        SpendingCaps.from_env({})
    with pytest.raises(ValueError, match="SATRANK_MAX_SAT_PER_DAY"):
        SpendingCaps.from_env({"SATRANK_MAX_SAT_PER_DAY": "-5"})
    caps = SpendingCaps.from_env({"SATRANK_MAX_SAT_PER_HOUR": "100",
                                  "SATRANK_SPEND_LEDGER": str(tmp_path / "l.jsonl")})
    assert (caps.per_request_sat, caps.per_hour_sat, caps.per_day_sat) == (None, 100, None)


def test_a_torn_ledger_line_is_skipped(tmp_path: Path) -> None:
    clock = Clock()
    ledger = tmp_path / "l.jsonl"
    ledger.write_text(f'{{"at": {clock.now - 10}, "sat": 7}}\n{{"at": 12')
    caps = SpendingCaps(per_day_sat=10, ledger_path=ledger, clock=clock)
    assert caps.spent(86400) == 7


@pytest.mark.parametrize("scheme", ["L402", "LSAT"])
def test_parse_challenge_reads_what_build_challenge_writes(scheme: str) -> None:
    value = build_challenge("AgEEbHNhdA==", "lnbcrt210n1abc", scheme)
    challenge = parse_challenge(value)
    assert (challenge.scheme, challenge.macaroon, challenge.invoice) == (
        scheme, "AgEEbHNhdA==", "lnbcrt210n1abc")
    # any case, order and spacing; a new-spec extra parameter is ignored
    assert parse_challenge('l402  invoice="lnbc1x" ,macaroon="QUJD", version="0"').invoice \
        == "lnbc1x"


@pytest.mark.parametrize("value", [
    'Bearer realm="x"', "L402", 'L402 macaroon="QUJD"', 'L402 macaroon="QUJD", invoice="',
    'L402 macaroon=QUJD, invoice="lnbc1"', 'L402x macaroon="QUJD", invoice="lnbc1"',
    'L402 macaroon="Q U", invoice="lnbc1"', 'L402 macaroon="QUJD" invoice="lnbc1"',
    "L402 " + "a" * 9000,
])
def test_parse_challenge_refuses_what_is_not_an_offer(value: str) -> None:
    with pytest.raises(MalformedCredential):
        parse_challenge(value)


@pytest.mark.parametrize(("room", "spent_day", "fixed", "expected"), [
    (50, 0, None, None),  # a new client: the 21-sat challenge is the best buy
    (2_000, 0, None, None),  # room for a deposit, but no pace that says it will be used
    (2_000, 1_200, None, 1_000),  # it spent 1,200 sat since yesterday: 1,000 at 0.5
    (900, 5_000, None, None),  # the caps forbid 1,000 sat in one payment
    (50_000, 20_000, None, 10_000),  # the largest tier its pace and caps allow
    (None, 20_000, None, None),  # no cap at all: never guess an unbounded deposit
    (2_000, 0, 500, 500),  # a fixed amount under the caps
    (400, 0, 500, None),  # a fixed amount over them: pay the challenge
])
def test_the_deposit_decision(room: int | None, spent_day: int, fixed: int | None,
                              expected: int | None) -> None:
    assert deposit_amount(TIERS, challenge_sat=21, challenge_credits=21, room_sat=room,
                          spent_day_sat=spent_day, fixed_sat=fixed) == expected


def test_credits_busy_is_waited_out_not_paid() -> None:
    """The paywall's 503 CREDITS_BUSY (api/middleware/l402.py) says retry, do not pay."""
    calls: list[str | None] = []

    async def paid(request: Request) -> JSONResponse:
        calls.append(request.headers.get("authorization"))
        if len(calls) == 1:
            return JSONResponse({"error": {"code": "CREDITS_BUSY", "message": "busy"},
                                 "requestId": "r1"}, status_code=503,
                                headers={"Retry-After": "1"})
        return JSONResponse({"data": {"ok": True}})

    app = Starlette(routes=[Route("/api/profile/{id}", paid)])
    with live_server(app) as base, SatRankClient(base) as client:
        assert client.profile("02" + "11" * 32) == {"ok": True}
    assert calls == [None, None]


def _challenge(value: str) -> object:
    try:
        return parse_challenge(value)
    except MalformedCredential:
        return None


@pytest.mark.parametrize("case", [
    Case("challenge: many tiny parameters", _challenge,
         lambda n: "L402 " + 'a="",' * ((n - 5) // 5), MAX_CHALLENGE_LEN),
    Case("challenge: spaces and commas", _challenge,
         lambda n: "L402 " + ' ,' * ((n - 5) // 2), MAX_CHALLENGE_LEN),
    Case("challenge: an unterminated value", _challenge,
         lambda n: 'L402 macaroon="' + "A" * (n - 15), MAX_CHALLENGE_LEN),
], ids=lambda c: c.name)
def test_the_challenge_reader_is_linear_up_to_its_cap(case: Case) -> None:
    """A server's header is input too: a hostile or broken server must not stall the
    client's event loop (same measure as tests/test_parsers_linear.py)."""
    size, growth = superlinear_growth(case)
    assert growth <= LINEAR_SLACK, f"{case.name}: {growth:.1f}x at {size} characters"


@pytest.mark.parametrize("client", [AsyncSatRankClient, SatRankClient])
def test_services_takes_exactly_the_query_parameters_of_the_route(client: type) -> None:
    """A keyword the route does not read would be ignored silently (a sort that never
    sorts): the client's parameters are the documented ones, no more."""
    from satrank.api.routes.openapi import build_document

    documented = {p["name"] for p in
                  build_document()["paths"]["/api/services"]["get"]["parameters"]}
    params = inspect.signature(client.services).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params if p.name != "self")
    assert {p.name for p in params} - {"self"} == documented
