"""Hostile client inputs for every parser of client input, and how to tell linear work.

Shared by tests/test_parsers_linear.py (assertions) and bench/parsers.py (figures). Each
case builds an input of a given size from the characters a backtracking or recursive
parser chokes on (whitespace, separators, brackets, digits), up to the size cap the
server enforces before the parser sees it.

Linear work is judged against a reference run, not against a wall-clock budget: the
parser's time on the hostile input is divided by the time of one plain pass over an
input of the same size (`str.upper` / `bytes.upper`, which is linear by construction).
Both are timed in the same process, right after each other, as the best of several
rounds, so the machine's load divides out. A linear parser makes a few passes (a ratio
of a few units to a few tens); the regex this replaced was at 10^4 or more from 64 bytes.
"""

from __future__ import annotations

import gc
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from satrank.api.body import loads_json
from satrank.api.errors import ApiError
from satrank.api.ids import classify_id
from satrank.api.middleware.body_guard import DEFAULT_MAX_BODY_BYTES
from satrank.l402.caveats import RequestContext, minted_caveats
from satrank.l402.headers import (
    MAX_AUTHORIZATION_LEN,
    MAX_MACAROON_LEN,
    Credential,
    MalformedCredential,
    parse_authorization,
)
from satrank.l402.identifier import Identifier
from satrank.l402.mint import decode_macaroon, encode_macaroon, mint_macaroon
from satrank.l402.verify import VerificationFailed, verify_credential
from satrank.lightning.bolt11 import MAX_INVOICE_LEN, InvalidPaymentRequest, decode
from tests.l402_support import DEPLOYMENT

PRE = "0f" * 32
# How much the work ratio may grow from the start size to the cap (up to 256x larger):
# noise on a loaded machine stays under 2.5; a quadratic parser grows by about the size
# ratio, the old regex by 10^4.
LINEAR_SLACK = 5.0
# Ids come in the path: nginx's default request-line buffer (large_client_header_buffers)
# is 8 KiB; classify_id is linear whatever the length.
MAX_ID_LEN = 8192


@dataclass(frozen=True)
class Case:
    """One hostile input family for one parser."""

    name: str
    parse: Callable[[Any], object]  # must return or raise its own error, quickly
    build: Callable[[int], str | bytes]  # the input of (about) n characters
    cap: int  # the largest size the server lets through to this parser
    # where the comparison starts: past any fixed-size part (a token's own caveats)
    start: int = 64


def _authorization(value: str) -> object:
    try:
        return parse_authorization(value)
    except MalformedCredential:
        return None


def _json(value: bytes) -> object:
    try:
        return loads_json(value)
    except (ValueError, ApiError):
        return None


def _invoice(value: str) -> object:
    try:
        return decode(value)
    except InvalidPaymentRequest:
        return None


_SECRET = b"s" * 40
_NOW = 1_700_000_000
_PREIMAGE = bytes(32)


def _token(n: int, caveat: str) -> str:
    """A valid token whose holder appended `caveat` (first-party: anyone holding a token can)
    until its base64 text is about n characters."""
    ident = Identifier.new(hashlib.sha256(_PREIMAGE).digest(), bytes(32))
    base = [c.encode() for c in minted_caveats(valid_until_unix=_NOW + 100, credits=21,
                                               deployment=DEPLOYMENT)]

    def text_of(k: int) -> str:
        return encode_macaroon(mint_macaroon(ident, base + [caveat] * k, _SECRET))

    per_caveat = len(text_of(1)) - len(text_of(0))
    return text_of(max(0, (n - len(text_of(0))) // per_caveat))


def _verify(mac: str) -> object:
    decode_macaroon(mac)  # base64 first, as the gate meets it
    try:
        return verify_credential(Credential((mac,), _PREIMAGE), secrets=(_SECRET,),
                                 ctx=RequestContext(_NOW, "profile"))
    except VerificationFailed:
        return None


def _fit(text: str, n: int) -> str:
    return (text * (n // max(1, len(text)) + 1))[:n]


CASES = (
    # the header that held a worker for 7.5 s at 187 bytes: two colons between whitespace
    Case("authorization: spaces:spaces:", _authorization,
         lambda n: "L402" + " " * (n // 2 - 3) + ":" + " " * (n // 2 - 3) + ":",
         MAX_AUTHORIZATION_LEN),
    Case("authorization: tabs, spaces, colons", _authorization,
         lambda n: "L402 " + _fit("\t \t:", n - 5), MAX_AUTHORIZATION_LEN),
    Case("authorization: commas and spaces", _authorization,
         lambda n: "L402 " + _fit("A ,", n - 70) + ":" + PRE, MAX_AUTHORIZATION_LEN),
    Case("authorization: one long macaroon", _authorization,
         lambda n: "L402 " + _fit("A", n - 70) + ":" + PRE, MAX_AUTHORIZATION_LEN),
    Case("macaroon: unknown caveats appended", _verify, lambda n: _token(n, "x=y"),
         MAX_MACAROON_LEN, start=512),
    Case("macaroon: the same narrowing caveat repeated", _verify,
         lambda n: _token(n, "services=satrank:0"), MAX_MACAROON_LEN, start=512),
    Case("node id: whitespace and hex", classify_id,
         lambda n: " " * (n // 2) + _fit("0", n - n // 2), MAX_ID_LEN),
    Case("json: deep arrays", _json, lambda n: ("[" * n).encode(), DEFAULT_MAX_BODY_BYTES),
    Case("json: deep objects", _json, lambda n: _fit('{"a":', n).encode(),
         DEFAULT_MAX_BODY_BYTES),
    Case("json: escapes in a string", _json,
         lambda n: ('"' + _fit("\\u0000", n - 2) + '"').encode(), DEFAULT_MAX_BODY_BYTES),
    Case("json: a long number", _json, lambda n: _fit("9", n).encode(),
         DEFAULT_MAX_BODY_BYTES),
    # int() from decimal text is quadratic; the interpreter refuses more than 4,300 digits
    Case("json: a number at the digit limit", _json, lambda n: _fit("9", n).encode(),
         sys.get_int_max_str_digits()),
    Case("bolt11: ones (separator) only", _invoice, lambda n: "lnbc" + "1" * (n - 4),
         MAX_INVOICE_LEN),
    Case("bolt11: data characters", _invoice, lambda n: "lnbc1" + "q" * (n - 5),
         MAX_INVOICE_LEN),
    Case("bolt11: over the cap", _invoice, lambda n: "lnbc1" + "q" * (n - 5),
         DEFAULT_MAX_BODY_BYTES),
)


def sizes(cap: int, start: int = 64) -> Iterator[int]:
    """64, 128, ... doubling, then the cap itself."""
    n = start
    while n < cap:
        yield n
        n *= 2
    yield cap


def _best_time(fn: Callable[[Any], object], value: object, loops: int, rounds: int) -> float:
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()  # as timeit does: a collection of other tests' garbage is not the parser's
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(loops):
                fn(value)
            best = min(best, time.perf_counter() - started)
    finally:
        if collecting:
            gc.enable()
    return best / loops


def _one_pass(value: str | bytes) -> object:
    return value.upper()


def parse_seconds(case: Case, n: int, rounds: int = 5) -> float:
    """The best time of one parse of `case` at size n."""
    value = case.build(n)
    loops = max(1, min(200, int(2e-3 / max(_best_time(case.parse, value, 1, 1), 1e-7))))
    return _best_time(case.parse, value, loops, rounds)


def work_ratio(case: Case, n: int, rounds: int = 5) -> float:
    """Parse time of `case` at size n over one linear pass of the same input."""
    value = case.build(n)
    reference = _best_time(_one_pass, value, 2000, rounds)
    first = _best_time(case.parse, value, 1, 1)
    if first > 0.1:  # plainly not linear: no need to wait for more rounds of it
        return first / reference
    # enough loops for about 2 ms, so timer resolution does not count
    loops = max(1, min(200, int(2e-3 / max(first, 1e-7))))
    return _best_time(case.parse, value, loops, rounds) / reference


def superlinear_growth(case: Case) -> tuple[int, float]:
    """(size, growth) at the first size whose work ratio exceeds the ratio at `case.start`
    by more than LINEAR_SLACK, else (cap, largest growth seen). A linear parser's ratio
    stays flat or falls (fixed costs weigh less on larger inputs); a quadratic one grows."""
    base = work_ratio(case, case.start)
    worst = 0.0
    for n in sizes(case.cap, case.start * 2):
        growth = work_ratio(case, n) / base
        if growth > LINEAR_SLACK:  # once more, both ends, before calling it: load comes and goes
            growth = min(growth, work_ratio(case, n) / min(base, work_ratio(case, case.start)))
        worst = max(worst, growth)
        if growth > LINEAR_SLACK:
            return n, growth
    return case.cap, worst
