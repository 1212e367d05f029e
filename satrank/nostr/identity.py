"""`satrank nostr-info`: what the configured key publishes as, for operators and users."""

from __future__ import annotations

import json

from satrank.config import NostrSettings
from satrank.nostr.assertions import (
    KIND_TRUSTED_PROVIDERS,
    Profile,
    profile_content,
    trusted_provider_tags,
)
from satrank.nostr.keys import NostrKey


def profile_of(settings: NostrSettings) -> Profile:
    return Profile(
        name=settings.profile_name,
        about=settings.profile_about,
        website=settings.profile_website,
        nip05_name=settings.nip05_name,
    )


def describe_identity(settings: NostrSettings) -> str:
    """npub, hex pubkey, NIP-05, kind 0 content and the kind 10040 example; never the secret."""
    if settings.private_key is None:
        return "NOSTR_PRIVATE_KEY is not set: nothing is published to Nostr.\n"
    key = NostrKey.parse(settings.private_key.reveal())
    profile = profile_of(settings)
    example = {
        "kind": KIND_TRUSTED_PROVIDERS,
        "tags": trusted_provider_tags(key.pubkey_hex, settings.relays),
        "content": "",
    }
    lines = [
        f"npub:   {key.npub}",
        f"pubkey: {key.pubkey_hex}",
        f"nip05:  {profile.nip05 or '(none: NOSTR_PROFILE_WEBSITE has no host)'}",
        f"relays: {', '.join(settings.relays) or '(none: NOSTR_RELAYS is empty)'}",
        f"kind 0 content: {profile_content(profile)}",
        "kind 10040 a user publishes to trust SatRank's rank (sign it with the USER's key):",
        json.dumps(example, ensure_ascii=False),
    ]
    return "\n".join(lines) + "\n"
