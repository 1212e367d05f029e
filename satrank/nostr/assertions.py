"""What SatRank says on Nostr: the kind 30382 tag set, the kind 0 profile, the 10040 example.

The kind 30382 tag set is defined once, here, as `ASSERTION_TAGS`: key, source field and
text format of each tag, in order. `assertion_tags` renders it in Python (documentation,
tests, one-off tools); `db.nostr_outbox` generates its set-based SQL from the same table
(so the crawler enqueues thousands of changes in one statement), and a test keeps the two
equal value for value, including rounding edge cases.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:  # events imports pynostr (~0.1 s): the crawler needs only the tag table
    from satrank.nostr.events import Tags

KIND_PROFILE = 0
KIND_TRUSTED_PROVIDERS = 10040
KIND_ASSERTION = 30382
DECIMALS = 4
ALIAS_FALLBACK_CHARS = 16  # a node without an alias is shown by its pubkey's first 16 hex
_QUANTUM = Decimal(1).scaleb(-DECIMALS)


class TagFormat(enum.Enum):
    """How a tag value becomes text (each has one Python and one SQL rendering)."""

    TEXT = "text"  # the field as is
    INTEGER = "integer"  # decimal digits
    FIXED = "fixed"  # exactly DECIMALS decimals, half away from zero
    WHOLE = "whole"  # rounded to an integer, half away from zero
    ALIAS = "alias"  # the alias, or the pubkey's first ALIAS_FALLBACK_CHARS characters
    CONSTANT = "constant"  # `source` is the value itself, not a field


@dataclass(frozen=True)
class TagSpec:
    key: str
    source: str  # a ScoredNode field (the `scores`/`nodes` column), or the CONSTANT value
    format: TagFormat


# What the figures are about (scoring/budgets.py, scoring/tiers.py; nostr/ may not import
# scoring, a test keeps these equal): p_success for 100,000 sat with the normal fee budget
# (0.5 % + 5 sat) from our reference payer, within lnd's 60 s payment timeout.
ASSERTION_AMOUNT_SAT = "100000"
ASSERTION_FEE_BUDGET = "normal"

# The earlier SatRank's set plus NIP-85's `rank`, then the basis of p_success, in this
# order. The LN key only ever appears in `d`: a `p` tag must hold a 32-byte Nostr key.
ASSERTION_TAGS: tuple[TagSpec, ...] = (
    TagSpec("d", "pubkey", TagFormat.TEXT),
    TagSpec("n", "lightning", TagFormat.CONSTANT),
    TagSpec("rank", "rank", TagFormat.INTEGER),
    TagSpec("alias", "alias", TagFormat.ALIAS),
    TagSpec("verdict", "verdict", TagFormat.TEXT),
    TagSpec("p_success", "p_success", TagFormat.FIXED),
    TagSpec("ci95_low", "ci95_low", TagFormat.FIXED),
    TagSpec("ci95_high", "ci95_high", TagFormat.FIXED),
    TagSpec("n_obs", "n_eff", TagFormat.WHOLE),
    TagSpec("amount_sat", ASSERTION_AMOUNT_SAT, TagFormat.CONSTANT),
    TagSpec("fee_budget", ASSERTION_FEE_BUDGET, TagFormat.CONSTANT),
)
ASSERTION_TAG_KEYS = tuple(spec.key for spec in ASSERTION_TAGS)


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
    return alias if alias else pubkey[:ALIAS_FALLBACK_CHARS]


def tag_value(spec: TagSpec, node: ScoredNode) -> str:
    if spec.format is TagFormat.CONSTANT:
        return spec.source
    if spec.format is TagFormat.ALIAS:
        return display_alias(node.pubkey, node.alias)
    value = getattr(node, spec.source)
    if spec.format is TagFormat.FIXED:
        return fixed_decimals(float(value))
    if spec.format is TagFormat.WHOLE:
        return whole_number(float(value))
    return str(value)  # TEXT, INTEGER


def assertion_tags(node: ScoredNode) -> Tags:
    """The kind 30382 tags of `node`, as `ASSERTION_TAGS` lays them out."""
    return [[spec.key, tag_value(spec, node)] for spec in ASSERTION_TAGS]


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
