"""Response shapes built from db/ records, starting with GET /api/profile/{id}.

The profile was once rendered by Postgres, and its bytes are part of the public answer
(cached and compared by clients), so this module writes JSON exactly as Postgres'
`json_build_object` / `json_agg` did: `{"key" : value, ...}`, `[item, ...]`, float8 in
its shortest round-trip form (`1e-05`, `98`, `1e+15`), strings escaped as `escape_json`
does. Stored jsonb (addresses, features, reasons) is embedded as its stored text. A test
compares every renderer with Postgres on many inputs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from satrank.db.nodes import IdKind
from satrank.db.pool import Pool
from satrank.db.profile import FeeStats, NodeProfile, ProfileScore, fetch_profile

# Postgres' float8out switches to exponent notation outside [1e-4, 1e15) (d2s.c).
_FIXED_MIN_EXP = -4
_FIXED_MAX_EXP = 15


Value = str | int | float | bool | None


def _shortest(value: float) -> str:
    """The shortest decimal that reads back as `value`, as Postgres' Ryu picks it.

    Python's repr takes a candidate lying exactly halfway to a neighbouring float (it
    reads back by round-half-even); Postgres does not, and uses more digits. Only then do
    the two differ (seen on integers above 2^53), so only then is the next length tried.
    """
    text = repr(value)
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


def pg_value(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return pg_float(value)
    return json.dumps(value, ensure_ascii=False)  # escapes exactly what escape_json does


def pg_object(pairs: Iterable[tuple[str, str]]) -> str:
    """`json_build_object` layout; values are already JSON text."""
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} : {v}" for k, v in pairs) + "}"


def pg_array(items: Iterable[str]) -> str:
    """`json_agg` layout over json values."""
    return "[" + ", ".join(items) + "]"


def _obj(**fields: Value) -> str:
    return pg_object((k, pg_value(v)) for k, v in fields.items())


def _score(s: ProfileScore) -> str:
    return pg_object([
        ("rank", pg_value(s.rank)), ("verdict", pg_value(s.verdict)),
        ("p_success", pg_value(s.p_success)), ("ci95_low", pg_value(s.ci95_low)),
        ("ci95_high", pg_value(s.ci95_high)), ("n_obs", pg_value(s.n_eff)),
        ("reasons", s.reasons_json), ("computedAt", pg_value(s.computed_at)),
    ])


def _fees(f: FeeStats) -> str:
    return pg_object([
        ("channels", pg_value(f.channels)), ("disabled", pg_value(f.disabled)),
        ("feeRatePpm", _obj(min=f.fee_rate_min, max=f.fee_rate_max,
                            median=f.fee_rate_median, p90=f.fee_rate_p90)),
        ("feeBaseMsat", _obj(min=f.fee_base_min, max=f.fee_base_max,
                             median=f.fee_base_median)),
        ("timeLockDelta", _obj(min=f.time_lock_delta_min, max=f.time_lock_delta_max,
                               median=f.time_lock_delta_median)),
        ("inboundFeeRatePpm", _obj(min=f.inbound_fee_rate_min, max=f.inbound_fee_rate_max)),
        ("lastUpdate", pg_value(f.last_update)),
    ])


def profile_document(p: NodeProfile) -> str:
    """The `data` of GET /api/profile/{id}: camelCase, in the published key order."""
    n, s, g, r = p.node, p.score, p.channels, p.reports
    return pg_object([
        ("agent", pg_object([
            ("publicKey", pg_value(n.pubkey)), ("publicKeyHash", pg_value(n.agent_hash)),
            ("alias", pg_value(n.alias)), ("color", pg_value(n.color)),
            ("addresses", n.addresses_json), ("active", pg_value(n.is_active)),
            ("firstSeen", pg_value(n.first_seen)), ("lastSeen", pg_value(n.last_seen)),
            ("lastAnnouncement", pg_value(n.last_announcement))])),
        ("score", _score(s) if s is not None else "null"),
        ("centrality", _obj(pagerank=s.pagerank, pagerankPercentile=s.pagerank_pct)
         if s is not None else "null"),
        ("features", s.features_json if s is not None else "null"),
        ("graph", _obj(channels=g.channels, peers=g.peers, capacitySat=g.capacity_sat,
                       medianChannelSat=g.median_channel_sat,
                       largestChannelSat=g.largest_channel_sat,
                       oldestChannelBlock=g.oldest_channel_block,
                       newestChannelBlock=g.newest_channel_block)),
        ("posteriors", pg_array(
            _obj(amountSat=t.amount_sat, p_success=t.p_success, ci95_low=t.ci95_low,
                 ci95_high=t.ci95_high, n_obs=t.n_eff, alpha=t.alpha, beta=t.beta,
                 priorAlpha=t.prior_alpha, priorBeta=t.prior_beta, updatedAt=t.updated_at)
            for t in p.posteriors)),
        ("probes", pg_object([
            ("byAmount", pg_array(
                _obj(amountSat=t.amount_sat, total=t.total, reached=t.reached,
                     lastAt=t.last_at) for t in p.probe_tiers)),
            ("recent", pg_array(
                _obj(sentAt=q.sent_at, amountSat=q.amount_sat, outcome=q.outcome.value,
                     failureCode=q.failure_code, failingHopIndex=q.failing_hop_index,
                     hops=q.hop_count, feeMsat=q.fee_msat, durationMs=q.duration_ms,
                     source=q.source) for q in p.recent_probes))])),
        ("reports", _obj(windowDays=r.window_days, total=r.total, successes=r.successes,
                         failures=r.failures, timeouts=r.timeouts, verified=r.verified,
                         lastAt=r.last_at)),
        ("feePolicy", pg_object([("outbound", _fees(p.outbound)),
                                 ("inbound", _fees(p.inbound))])),
        ("history", pg_array(
            _obj(computedAt=h.computed_at, rank=h.rank, verdict=h.verdict,
                 p_success=h.p_success, ci95_low=h.ci95_low, ci95_high=h.ci95_high,
                 pagerank=h.pagerank) for h in p.history)),
    ])


async def fetch_profile_json(pool: Pool, by: IdKind, value: str) -> str | None:
    """The profile document of the node as JSON text, or None when the node is unknown."""
    profile = await fetch_profile(pool, by, value)
    return profile_document(profile) if profile is not None else None
