"""Unit: the Nostr settings (defaults, limits, NIP-05 name) read from the environment."""

from __future__ import annotations

import pytest

from satrank.config import ConfigError, Settings

BASE = {"L402_MACAROON_SECRET": "x" * 40}


def test_defaults() -> None:
    nostr = Settings.from_environ(BASE).nostr
    assert nostr.private_key is None and nostr.relays == ()
    assert nostr.nip05_name == "satrank"
    assert nostr.profile_website == "https://satrank.dev"
    assert nostr.publish_interval_s == 0.2 and nostr.publish_batch == 200
    assert nostr.retry_base_s < nostr.retry_max_s


def test_overrides() -> None:
    nostr = Settings.from_environ({
        **BASE, "NOSTR_NIP05_NAME": "Oracle_1", "NOSTR_PUBLISH_INTERVAL_S": "0",
        "NOSTR_PUBLISH_BATCH": "50", "NOSTR_OK_TIMEOUT_S": "3", "NOSTR_PROFILE_NAME": "Mine",
    }).nostr
    assert nostr.nip05_name == "oracle_1"
    assert nostr.publish_interval_s == 0 and nostr.publish_batch == 50
    assert nostr.ok_timeout_s == 3 and nostr.profile_name == "Mine"


@pytest.mark.parametrize(
    ("name", "value"),
    [("NOSTR_NIP05_NAME", "bad name!"), ("NOSTR_PUBLISH_BATCH", "0"),
     ("NOSTR_OK_TIMEOUT_S", "-1"), ("NOSTR_PRIVATE_KEY", "npub1abc")],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_environ({**BASE, name: value})
    assert any(problem.startswith(name) for problem in caught.value.problems)
    if name == "NOSTR_PRIVATE_KEY":
        assert value not in str(caught.value)  # a secret is never echoed
