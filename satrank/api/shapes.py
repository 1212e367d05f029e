"""Response shapes built from db/ records, starting with GET /api/profile/{id}.

The profile was once rendered by Postgres and its answers must stay byte-identical, so
this module writes JSON exactly as Postgres' `json_build_object` / `json_agg` did:
`{"key" : value, ...}`, `[item, ...]`, float8 in its shortest round-trip form (`1e-05`,
`98`, `1e+15`), strings escaped as `escape_json` does. Stored jsonb (addresses, features,
reasons) is embedded as its stored text. A test compares every renderer with Postgres on
many inputs.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from json.encoder import encode_basestring
from typing import Any

from satrank.db.nodes import IdKind
from satrank.db.pool import Pool
from satrank.db.profile import FeeStats, JsonText, NodeProfile, fetch_profile

# Postgres' float8out switches to exponent notation outside [1e-4, 1e15) (d2s.c).
_FIXED_MIN_EXP = -4
_FIXED_MAX_EXP = 15
_EXACT_INTEGERS = 2.0**53


Value = str | int | float | bool | None


def _shortest(value: float) -> str:
    """The shortest decimal that reads back as `value`, as Postgres' Ryu picks it.

    Python's repr takes a candidate lying exactly halfway to a neighbouring float (it
    reads back by round-half-even); Postgres does not, and uses more digits. Only then do
    the two differ, so only then is the next length tried. Below 2^53 such a midpoint
    needs more than 17 significant digits, so it is never the shortest candidate.
    """
    text = repr(value)
    if abs(value) < _EXACT_INTEGERS:
        return text
    candidate, exact = Fraction(text), Fraction(value)
    if candidate == exact:
        return text
    neighbour = math.nextafter(value, math.inf if candidate > exact else -math.inf)
    if candidate != (exact + Fraction(neighbour)) / 2:
        return text
    for precision in range(len(Decimal(text).normalize().as_tuple().digits), 18):
        text = f"{value:.{precision}e}"
        candidate = Fraction(text)
        if abs(candidate - exact) < abs(Fraction(neighbour) - exact) / 2:
            return text
    return repr(value)


def pg_float(value: float) -> str:
    """A float8 as Postgres writes it into JSON (shortest digits, `%g`-like layout)."""
    if 1e-4 <= abs(value) < 1e15:  # the usual case: repr is fixed-point here too
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if math.isnan(value) or math.isinf(value):
        return json.dumps("NaN" if math.isnan(value) else
                          ("Infinity" if value > 0 else "-Infinity"))
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(_shortest(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    leading = exponent + len(text) - 1  # decimal exponent of the first digit
    prefix = "-" if sign else ""
    if _FIXED_MIN_EXP <= leading < _FIXED_MAX_EXP:
        if exponent >= 0:
            return prefix + text + "0" * exponent
        point = len(text) + exponent
        if point > 0:
            return prefix + text[:point] + "." + text[point:]
        return prefix + "0." + "0" * -point + text
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{prefix}{mantissa}e{'+' if leading >= 0 else '-'}{abs(leading):02d}"


# By exact type (bool before int matters, and this is the profile's hot loop).
_RENDER: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "null",
    bool: lambda b: "true" if b else "false",
    int: str,
    float: pg_float,
    str: encode_basestring,  # json's ensure_ascii=False escaping: exactly escape_json's set
    JsonText: str,  # stored jsonb: embedded as is
}


def pg_value(value: Value) -> str:
    render = _RENDER.get(type(value))
    if render is not None:
        return render(value)
    if isinstance(value, str):  # a str enum such as ProbeOutcome
        return encode_basestring(value)
    raise TypeError(f"no JSON rendering for {type(value).__name__}")


@functools.cache
def _key(name: str) -> str:
    return encode_basestring(name) + " : "


def pg_object(pairs: Iterable[tuple[str, str]]) -> str:
    """`json_build_object` layout; values are already JSON text."""
    return "{" + ", ".join(_key(k) + v for k, v in pairs) + "}"


def pg_array(items: Iterable[str]) -> str:
    """`json_agg` layout over json values."""
    return "[" + ", ".join(items) + "]"


def record_shape(*fields: tuple[str, str]) -> Callable[[object], str]:
    """The renderer of one record as a JSON object: (public key, record attribute) pairs,
    in the published order."""
    keys = [_key(key) for key, _ in fields]
    values = operator.attrgetter(*(attribute for _, attribute in fields))

    def render(record: object) -> str:
        return "{" + ", ".join([k + pg_value(v) for k, v in zip(keys, values(record),
                                                                strict=True)]) + "}"
    return render


_AGENT = record_shape(
    ("publicKey", "pubkey"), ("publicKeyHash", "agent_hash"), ("alias", "alias"),
    ("color", "color"), ("addresses", "addresses_json"), ("active", "is_active"),
    ("firstSeen", "first_seen"), ("lastSeen", "last_seen"),
    ("lastAnnouncement", "last_announcement"))
_SCORE = record_shape(
    ("rank", "rank"), ("verdict", "verdict"), ("p_success", "p_success"),
    ("ci95_low", "ci95_low"), ("ci95_high", "ci95_high"), ("n_obs", "n_eff"),
    ("reasons", "reasons_json"), ("computedAt", "computed_at"), ("basis", "basis_json"),
    ("grid", "grid_json"))
_CENTRALITY = record_shape(("pagerank", "pagerank"), ("pagerankPercentile", "pagerank_pct"))
_GRAPH = record_shape(
    ("channels", "channels"), ("peers", "peers"), ("capacitySat", "capacity_sat"),
    ("medianChannelSat", "median_channel_sat"), ("largestChannelSat", "largest_channel_sat"),
    ("oldestChannelBlock", "oldest_channel_block"),
    ("newestChannelBlock", "newest_channel_block"))
_POSTERIOR = record_shape(
    ("amountSat", "amount_sat"), ("p_success", "p_success"), ("ci95_low", "ci95_low"),
    ("ci95_high", "ci95_high"), ("n_obs", "n_eff"), ("alpha", "alpha"), ("beta", "beta"),
    ("priorAlpha", "prior_alpha"), ("priorBeta", "prior_beta"), ("updatedAt", "updated_at"))
_PROBE_TIER = record_shape(
    ("amountSat", "amount_sat"), ("total", "total"), ("reached", "reached"),
    ("lastAt", "last_at"))
_RECENT_PROBE = record_shape(
    ("sentAt", "sent_at"), ("amountSat", "amount_sat"), ("outcome", "outcome"),
    ("failureCode", "failure_code"), ("failingHopIndex", "failing_hop_index"),
    ("hops", "hop_count"), ("feeMsat", "fee_msat"), ("durationMs", "duration_ms"),
    ("source", "source"))
_REPORTS = record_shape(
    ("windowDays", "window_days"), ("total", "total"), ("successes", "successes"),
    ("failures", "failures"), ("timeouts", "timeouts"), ("verified", "verified"),
    ("lastAt", "last_at"))
_FEE_RATE = record_shape(("min", "fee_rate_min"), ("max", "fee_rate_max"),
                         ("median", "fee_rate_median"), ("p90", "fee_rate_p90"))
_FEE_BASE = record_shape(("min", "fee_base_min"), ("max", "fee_base_max"),
                         ("median", "fee_base_median"))
_TIME_LOCK = record_shape(("min", "time_lock_delta_min"), ("max", "time_lock_delta_max"),
                          ("median", "time_lock_delta_median"))
_INBOUND_RATE = record_shape(("min", "inbound_fee_rate_min"), ("max", "inbound_fee_rate_max"))
_HISTORY = record_shape(
    ("computedAt", "computed_at"), ("rank", "rank"), ("verdict", "verdict"),
    ("p_success", "p_success"), ("ci95_low", "ci95_low"), ("ci95_high", "ci95_high"),
    ("pagerank", "pagerank"))


def _fees(f: FeeStats) -> str:
    return pg_object([
        ("channels", pg_value(f.channels)), ("disabled", pg_value(f.disabled)),
        ("feeRatePpm", _FEE_RATE(f)), ("feeBaseMsat", _FEE_BASE(f)),
        ("timeLockDelta", _TIME_LOCK(f)), ("inboundFeeRatePpm", _INBOUND_RATE(f)),
        ("lastUpdate", pg_value(f.last_update)),
    ])


def profile_document(p: NodeProfile) -> str:
    """The `data` of GET /api/profile/{id}: camelCase, in the published key order."""
    s = p.score
    return pg_object([
        ("agent", _AGENT(p.node)),
        ("score", _SCORE(s) if s is not None else "null"),
        ("centrality", _CENTRALITY(s) if s is not None else "null"),
        ("features", s.features_json if s is not None else "null"),
        ("graph", _GRAPH(p.channels)),
        ("posteriors", pg_array(map(_POSTERIOR, p.posteriors))),
        ("probes", pg_object([("byAmount", pg_array(map(_PROBE_TIER, p.probe_tiers))),
                              ("recent", pg_array(map(_RECENT_PROBE, p.recent_probes)))])),
        ("reports", _REPORTS(p.reports)),
        ("feePolicy", pg_object([("outbound", _fees(p.outbound)),
                                 ("inbound", _fees(p.inbound))])),
        ("history", pg_array(map(_HISTORY, p.history))),
    ])


async def fetch_profile_json(pool: Pool, by: IdKind, value: str) -> str | None:
    """The profile document of the node as JSON text, or None when the node is unknown."""
    profile = await fetch_profile(pool, by, value)
    return profile_document(profile) if profile is not None else None
