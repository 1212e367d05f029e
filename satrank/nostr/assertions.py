"""What SatRank says on Nostr: the kind 30382 tag set, the kind 0 profile, the 10040 example.

The tag set for a scored node is built set-based in SQL by `db.nostr_outbox` (so the
crawler enqueues thousands of changes in one statement). `assertion_tags` here is the same
layout in Python, for documentation, tests and one-off tools; a test keeps the two equal
value for value, including rounding edge cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlparse

from satrank.nostr.events import Tags

KIND_PROFILE = 0
KIND_TRUSTED_PROVIDERS = 10040
KIND_ASSERTION = 30382
ASSERTION_TAG_KEYS = (
    "d", "n", "rank", "alias", "verdict", "p_success", "ci95_low", "ci95_high", "n_obs",
)
DECIMALS = 4
_QUANTUM = Decimal(1).scaleb(-DECIMALS)


@dataclass(frozen=True)
class ScoredNode:
    """One `scores` row joined with its node, as the tags need it."""

    pubkey: str  # 66-hex Lightning node key
    alias: str
    rank: int
    verdict: str
    p_success: float
    ci95_low: float
    ci95_high: float
    n_eff: float


def fixed_decimals(value: float) -> str:
    """`value` with exactly 4 decimals, half away from zero.

    Matches Postgres `round(value::numeric, 4)::text`: a float8 becomes numeric through its
    15-significant-digit text, which is what makes 0.12345 round up to 0.1235 on both sides.
    """
    return str(Decimal(format(value, ".15g")).quantize(_QUANTUM, rounding=ROUND_HALF_UP))


def whole_number(value: float) -> str:
    """`value` rounded half away from zero, as Postgres `round(value::numeric)::text`."""
    return str(Decimal(format(value, ".15g")).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def display_alias(pubkey: str, alias: str) -> str:
    return alias if alias else pubkey[:16]


def assertion_tags(node: ScoredNode) -> Tags:
    """The kind 30382 tags: the earlier SatRank's set plus NIP-85's `rank`, in this order.

    The LN key only ever appears in `d`: a `p` tag must hold a 32-byte Nostr key.
    """
    return [
        ["d", node.pubkey],
        ["n", "lightning"],
        ["rank", str(node.rank)],
        ["alias", display_alias(node.pubkey, node.alias)],
        ["verdict", node.verdict],
        ["p_success", fixed_decimals(node.p_success)],
        ["ci95_low", fixed_decimals(node.ci95_low)],
        ["ci95_high", fixed_decimals(node.ci95_high)],
        ["n_obs", whole_number(node.n_eff)],
    ]


@dataclass(frozen=True)
class Profile:
    name: str
    about: str
    website: str
    nip05_name: str

    @property
    def nip05(self) -> str | None:
        host = urlparse(self.website).hostname
        return f"{self.nip05_name}@{host}" if host and self.nip05_name else None


def profile_content(profile: Profile) -> str:
    """Kind 0 content: compact JSON metadata (NIP-85's appendix asks providers for one)."""
    fields: dict[str, str] = {"name": profile.name, "about": profile.about}
    if profile.website:
        fields["website"] = profile.website
    nip05 = profile.nip05
    if nip05:
        fields["nip05"] = nip05
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def trusted_provider_tags(pubkey_hex: str, relays: tuple[str, ...]) -> Tags:
    """Kind 10040 tags a *user* publishes to say "read `rank` of 30382 from this key".

    One tag per relay hint; with no relay configured the hint is omitted.
    """
    if not relays:
        return [[f"{KIND_ASSERTION}:rank", pubkey_hex]]
    return [[f"{KIND_ASSERTION}:rank", pubkey_hex, relay] for relay in relays]
