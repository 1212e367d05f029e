"""Integration: `satrank keygen` and `satrank nostr-info` as real subprocesses."""

from __future__ import annotations

from pathlib import Path

from satrank.config import Settings
from satrank.nostr.keys import NostrKey
from tests.cli import run_satrank, satrank_env

HEX_SECRET = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"


def test_keygen_prints_a_usable_environment_even_in_production(tmp_path: Path) -> None:
    # Production without any secret configured: keygen must still work (it makes them).
    done = run_satrank("keygen", env=satrank_env(tmp_path, SATRANK_ENV="production"))
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines()
                  if line and not line.startswith("#"))
    assert set(values) == {"L402_MACAROON_SECRET", "API_KEY", "OPERATOR_BYPASS_SECRET",
                           "NOSTR_PRIVATE_KEY"}
    assert values["NOSTR_PRIVATE_KEY"].startswith("nsec1")
    key = NostrKey.parse(values["NOSTR_PRIVATE_KEY"])
    assert f"# Nostr public key (share it): {key.npub}" in done.stdout
    # What keygen prints is accepted by the production configuration as is.
    Settings.from_environ({**values, "SATRANK_ENV": "production",
                           "DATABASE_URL": "postgresql://satrank@db/satrank",
                           "NOSTR_RELAYS": "wss://relay.example"})
    assert not (tmp_path / "dev-secrets.env").exists()


def test_nostr_info_prints_public_identity_only(tmp_path: Path) -> None:
    env = satrank_env(tmp_path, NOSTR_PRIVATE_KEY=HEX_SECRET,
                      NOSTR_RELAYS="wss://relay.example", NOSTR_PROFILE_WEBSITE="https://o.example")
    done = run_satrank("nostr-info", env=env)
    assert done.returncode == 0, done.stderr
    assert f"npub:   {NPUB}" in done.stdout
    assert "nip05:  satrank@o.example" in done.stdout
    assert '["30382:rank", "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e", ' \
           '"wss://relay.example"]' in done.stdout
    assert HEX_SECRET not in done.stdout + done.stderr
