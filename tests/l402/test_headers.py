"""Unit: Authorization values real clients send, and the challenge form they parse."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from satrank.l402.headers import (
    MAX_AUTHORIZATION_LEN,
    Credential,
    MalformedCredential,
    build_challenge,
    is_l402_authorization,
    parse_authorization,
    parse_challenge,
)

MAC = "AgEHc2F0cmFuawJCAAA+/x=="
PRE = "0f" * 32


@pytest.mark.parametrize(
    "value",
    [
        f"L402 {MAC}:{PRE}",
        f"LSAT {MAC}:{PRE}",
        f"l402 {MAC}:{PRE}",
        f"lsat {MAC}:{PRE}",
        f"L402   {MAC}:{PRE}  ",
        f"  L402\t{MAC} : {PRE}",
        f"L402 {MAC}:{PRE.upper()}",
        f"L402 {MAC.rstrip('=').replace('+', '-').replace('/', '_')}:{PRE}",
        f"L402 {MAC},{MAC}:{PRE}",
        f"L402 {MAC}, {MAC}:{PRE}",
        f"L402 {MAC}:{PRE}\n",
    ],
    ids=["l402", "lsat-lsat-js", "lower-case-scheme", "lower-lsat", "extra-spaces",
         "tab-and-spaces",
         "upper-hex", "url-safe-unpadded", "two-macaroons", "two-macaroons-spaced",
         "trailing-newline"],
)
def test_parses(value: str) -> None:
    credential = parse_authorization(value)
    assert credential.preimage == bytes.fromhex(PRE)
    assert credential.macaroons[0].startswith("AgEHc2F0")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "L402",
        "L402 deposit:x",
        f"L402 deposit:{PRE[:-2]}",
        f"L402 {MAC}:{PRE[:-1]}",
        f"L402 {MAC}:{PRE}00",
        f"L402 {MAC}:{'zz' * 32}",
        f"L402 {MAC}",
        f"L402 :{PRE}",
        f"L402 {MAC}:{PRE}:{PRE}",
        f"Bearer {MAC}:{PRE}",
        f"L402{MAC}:{PRE}",
        f"L402 {MAC},,{MAC}:{PRE}",
        f"L402 {MAC},{MAC},{MAC},{MAC},{MAC}:{PRE}",
        f"L402 {'A' * (MAX_AUTHORIZATION_LEN)}:{PRE}",
        f"L402 {MAC}\x00:{PRE}",
        f"L402 ma\"c:{PRE}",
    ],
    ids=["empty", "scheme-only", "deposit-junk", "short-preimage-hex", "odd-hex", "long-preimage",
         "non-hex", "no-preimage", "empty-macaroon", "two-colons", "bearer", "no-space",
         "empty-list-item", "five-macaroons", "oversized", "nul-byte", "quote"],
)
def test_refuses(value: str) -> None:
    with pytest.raises(MalformedCredential):
        parse_authorization(value)


@pytest.mark.parametrize(
    ("value", "ours"),
    [("L402 x", True), ("lsat x", True), ("L402", True), ("Bearer x", False),
     ("L402x", False), ("Basic dXNlcg==", False)],
    ids=["l402", "lsat", "bare-scheme", "bearer", "glued", "basic"],
)
def test_scheme_detection(value: str, ours: bool) -> None:
    assert is_l402_authorization(value) is ours


def test_challenge_is_exactly_the_aperture_form() -> None:
    assert build_challenge(MAC, "lnbcrt1", "L402") == f'L402 macaroon="{MAC}", invoice="lnbcrt1"'
    assert build_challenge(MAC, "lnbcrt1", "LSAT").startswith('LSAT macaroon="')
    with pytest.raises(ValueError):
        build_challenge(MAC, 'ln"bc')


def test_credential_round_trips() -> None:
    credential = Credential((MAC,), bytes.fromhex(PRE))
    assert parse_authorization(credential.to_header()) == credential


# Properties. Header values reach the parser as latin-1 text; whitespace, colons, commas
# and the scheme's letters are drawn often, since that is where a parser goes wrong.
_TRICKY = " \t\n\x0b\x0c\r\x85\xa0:,=LlSsAaTt402Ff+/_-"
HEADER_TEXT = st.text(
    st.one_of(st.sampled_from(_TRICKY), st.characters(max_codepoint=0xFF)), max_size=200)
BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
MACAROON = st.builds(lambda body, pad: body + pad, st.text(BASE64_CHARS, min_size=1, max_size=60),
                     st.sampled_from(["", "=", "=="]))
SPACE = st.text(" \t", max_size=3)
# The grammar as the regex this parser replaced wrote it; fine as a reference up to a few
# dozen characters (it backtracks polynomially beyond).
_REFERENCE = re.compile(r"\A\s*(L402|LSAT)\s+([^:]*?)\s*:\s*([^:]*?)\s*\Z", re.IGNORECASE)


@given(HEADER_TEXT)
def test_any_text_parses_or_raises_malformed_credential(value: str) -> None:
    try:
        credential = parse_authorization(value)
    except MalformedCredential:
        return
    assert parse_authorization(credential.to_header()) == credential


@given(st.lists(MACAROON, min_size=1, max_size=4), st.binary(min_size=32, max_size=32),
       st.sampled_from(["L402", "LSAT", "l402", "lsat", "LsAt"]), SPACE, SPACE, SPACE, SPACE,
       st.booleans())
def test_what_clients_send_round_trips(macaroons: list[str], preimage: bytes, scheme: str,
                                       lead: str, before: str, after: str, trail: str,
                                       upper: bool) -> None:
    hex_text = preimage.hex().upper() if upper else preimage.hex()
    listed = (after + "," + before).join(macaroons)
    value = f"{lead}{scheme} {before}{listed}{after}:{before}{hex_text}{trail}"
    assert parse_authorization(value) == Credential(tuple(macaroons), preimage)


@given(st.text(st.sampled_from(_TRICKY + "AB0f9"), max_size=36))
def test_accepts_nothing_the_old_grammar_refused(tail: str) -> None:
    for value in (tail, "L402 " + tail, "LSAT" + tail):
        match = _REFERENCE.match(value)
        try:
            parse_authorization(value)
            accepted = True
        except MalformedCredential:
            accepted = False
        if match is None:
            assert not accepted, value



@pytest.mark.parametrize("scheme", ["L402", "LSAT"])
def test_a_challenge_reads_back_as_built(scheme: str) -> None:
    challenge = parse_challenge(build_challenge(MAC, "lnbcrt210n1pjq", scheme))
    assert (challenge.scheme, challenge.macaroon, challenge.invoice) == (
        scheme, MAC, "lnbcrt210n1pjq")
