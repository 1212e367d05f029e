"""Prometheus metrics of the paywall (default registry, `satrank_` prefix)."""

from __future__ import annotations

from prometheus_client import Counter

CHALLENGES = Counter(
    "satrank_l402_challenges_total", "402 challenges minted, by refusal reason", ["reason"]
)
CHALLENGES_REFUSED = Counter(
    "satrank_l402_challenges_refused_total",
    "challenges not minted, by cause (rate_limited, global_limit, lnd_unavailable, "
    "lnd_not_configured)", ["cause"],
)
PAID_REQUESTS = Counter("satrank_l402_paid_requests_total", "requests served on an L402 token")
CREDITS_DEBITED = Counter("satrank_l402_credits_debited_total", "credits debited from tokens")
TOKEN_THROTTLED = Counter(
    "satrank_l402_token_throttled_total", "paid requests refused by the per-token rate limit"
)
OPERATOR_BYPASSES = Counter(
    "satrank_operator_bypass_total", "requests let through by X-Operator-Token"
)
DEPOSITS = Counter("satrank_l402_deposits_total", "deposit invoices minted")
CREDITS_REFUNDED = Counter(
    "satrank_l402_credits_refunded_total", "credits given back because a paid route failed (5xx)"
)
CREDITS_BUSY = Counter(
    "satrank_l402_credits_busy_total",
    "paid requests answered 503 because another api process held the token's last credits",
)
LEDGER_UNAVAILABLE = Counter(
    "satrank_l402_ledger_unavailable_total",
    "paid requests answered 503 because Postgres could not grant credits",
)
