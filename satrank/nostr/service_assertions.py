"""NIP-85 assertions about L402 services: kind 30385, whose subjects are NIP-73 external
identifiers, here a web URL (`k` = `web`, `d` = the endpoint's URL as registered). The
other NIP-85 kinds do not fit: 30382 names a Nostr key, 30383/30384 name Nostr events.
docs/nostr.md lists the tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from satrank.nostr.assertions import whole_number

if TYPE_CHECKING:  # events imports pynostr (~0.1 s): the crawler needs only the tags
    from satrank.nostr.events import Tags

KIND_EXTERNAL_ASSERTION = 30385
# Two decimals: each check moves an endpoint's posterior a little; a new event (to every
# relay) only when the published figure moves.
DECIMALS = 2


@dataclass(frozen=True)
class ScoredService:
    url: str
    method: str
    verdict: str
    p_success: float  # end to end
    uptime: float
    median_latency_ms: int | None
    price_sat: int | None
    payee_pubkey: str | None  # the Lightning node its invoices pay


def service_tags(service: ScoredService) -> Tags:
    """The kind 30385 tags of one scored endpoint; absent figures are left out."""
    tags = [["d", service.url], ["k", "web"], ["n", "l402"],
            ["rank", whole_number(100 * service.p_success)], ["verdict", service.verdict],
            ["method", service.method], ["p_success", f"{service.p_success:.{DECIMALS}f}"],
            ["uptime", f"{service.uptime:.{DECIMALS}f}"]]
    if service.median_latency_ms is not None:
        tags.append(["latency_ms", str(service.median_latency_ms)])
    if service.price_sat is not None:
        tags.append(["price_sat", str(service.price_sat)])
    if service.payee_pubkey is not None:
        tags.append(["payee", service.payee_pubkey])
    return tags
