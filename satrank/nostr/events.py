"""NIP-01 events: the id serialization, BIP-340 signing and verification.

The id is sha256 of the UTF-8 JSON array `[0, pubkey, created_at, kind, tags, content]`
without whitespace; `json.dumps(..., separators=(",", ":"), ensure_ascii=False)` writes
exactly what `JSON.stringify` writes for every string Postgres can hold (checked against
nostr-tools byte for byte, nostr.md §9.1). Lone UTF-16 surrogates are the one difference:
they are replaced before serializing.

The serialization, the id and BIP-340 signing and checking are pynostr's `Event` and keys
(MIT). What stays here: the lone-surrogate replacement (pynostr's `serialize` would raise
UnicodeEncodeError) and the check that a received event's `id` is the one its fields hash to
(pynostr's `verify` recomputes the id and never compares it with the one sent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pynostr.event import Event
from pynostr.key import PrivateKey, PublicKey

from satrank.nostr.keys import NostrKey

Tags = list[list[str]]


class InvalidEvent(ValueError):
    """An event's fields are malformed or its id/signature does not check out."""


@dataclass(frozen=True)
class UnsignedEvent:
    kind: int
    created_at: int
    tags: Tags
    content: str = ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    # A Python str holds astral characters as one code point, so any surrogate is a lone one:
    # it cannot be UTF-8 encoded (JSON.stringify would escape it instead). Use U+FFFD.
    return _SURROGATE.sub("\ufffd", text)


def serialize_for_id(
    pubkey_hex: str, created_at: int, kind: int, tags: Tags, content: str
) -> bytes:
    """The exact bytes NIP-01 hashes into the event id."""
    return bytes(_event(pubkey_hex, created_at, kind, tags, content).serialize())


def _event(pubkey_hex: str, created_at: int, kind: int, tags: Tags, content: str) -> Any:
    """pynostr's Event over cleaned fields; it computes its `id` on construction."""
    return Event(content=_clean(content), pubkey=pubkey_hex, created_at=created_at, kind=kind,
                 tags=[[_clean(value) for value in tag] for tag in tags])


def event_id(pubkey_hex: str, created_at: int, kind: int, tags: Tags, content: str) -> str:
    return str(_event(pubkey_hex, created_at, kind, tags, content).id)


def sign_event(
    template: UnsignedEvent, key: NostrKey, *, aux_randomness: bytes = b""
) -> dict[str, Any]:
    """A complete signed event as the wire dict.

    `aux_randomness` follows coincurve: b"" draws fresh randomness (production), 32 fixed
    bytes make the signature deterministic (BIP-340 test vectors).
    """
    if not 0 <= template.kind <= 65535:
        raise InvalidEvent("kind must be between 0 and 65535")
    tags = [[_clean(value) for value in tag] for tag in template.tags]
    content = _clean(template.content)
    eid = event_id(key.pubkey_hex, template.created_at, template.kind, tags, content)
    # pynostr's Event.sign takes no aux randomness, so sign its id with its key directly.
    sig = PrivateKey(key.secret).sign(bytes.fromhex(eid), aux_randomness)
    return {
        "id": eid,
        "pubkey": key.pubkey_hex,
        "created_at": template.created_at,
        "kind": template.kind,
        "tags": tags,
        "content": content,
        "sig": sig.hex(),
    }


def verify_event(event: dict[str, Any]) -> None:
    """Raise `InvalidEvent` unless the id is recomputed from the fields and the sig verifies."""
    try:
        pubkey = str(event["pubkey"])
        expected = event_id(
            pubkey, int(event["created_at"]), int(event["kind"]),
            [[str(v) for v in tag] for tag in event["tags"]], str(event["content"]),
        )
        sig = bytes.fromhex(str(event["sig"]))
        public = PublicKey.from_hex(pubkey)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"malformed event: {exc}") from None
    if expected != event.get("id"):
        raise InvalidEvent("id does not match the serialized fields")
    try:
        valid = len(sig) == 64 and public.verify(sig, bytes.fromhex(expected))
    except ValueError as exc:  # coincurve: the pubkey is not an x coordinate on the curve
        raise InvalidEvent(f"malformed event: {exc}") from None
    if not valid:
        raise InvalidEvent("signature does not verify")
