"""Unit: how relay answers are read (NIP-01 OK, relay quirks of nostr.md §11)."""

from __future__ import annotations

import json

import pytest

from satrank.nostr.relay import PublishOutcome, _parse_ok, classify_ok

EID = "ab" * 32


@pytest.mark.parametrize(
    ("accepted", "message", "outcome"),
    [(True, "", "ok"), (True, "duplicate: already have this event", "ok"),
     (False, "duplicate: exists", "ok"), (False, "rate-limited: slow down", "failed"),
     (False, "error: could not save", "failed"), (False, "invalid: bad signature", "rejected"),
     (False, "blocked: not allowed", "rejected"), (False, "pow: difficulty 28", "rejected"),
     (False, "auth-required: please auth", "rejected")],
)
def test_classify_ok(accepted: bool, message: str, outcome: str) -> None:
    assert classify_ok(accepted, message) == outcome


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(["OK", EID, True, ""], PublishOutcome("ok", "")),
     (["OK", "", False, "invalid: sig"], PublishOutcome("rejected", "invalid: sig")),
     (["OK", EID, False, "rate-limited: x"], PublishOutcome("failed", "rate-limited: x")),
     (["OK", EID, True], PublishOutcome("ok", "")),
     (["OK", "cd" * 32, True, ""], None), (["NOTICE", "hello"], None),
     (["AUTH", "challenge"], None), (["EOSE", "sub"], None), ([], None), ({"OK": 1}, None)],
    ids=["ok", "empty-id-invalid", "rate-limited", "no-message", "other-id", "notice",
         "auth", "eose", "empty", "object"],
)
def test_parse_ok(raw: object, expected: PublishOutcome | None) -> None:
    assert _parse_ok(json.dumps(raw), EID) == expected


def test_parse_ok_ignores_garbage() -> None:
    assert _parse_ok("not json", EID) is None
