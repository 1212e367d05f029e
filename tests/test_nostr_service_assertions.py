"""Unit: the kind 30385 tags of a checked L402 service (nostr/service_assertions.py)."""

from __future__ import annotations

from satrank.nostr.service_assertions import ScoredService, service_tags

PAYEE = "03" + "cd" * 32


def test_a_service_is_asserted_by_its_url_with_figures_to_two_decimals() -> None:
    tags = service_tags(ScoredService("https://api.example/v1", "GET", "SAFE", 0.98765, 1.0,
                                      120, 10, PAYEE))
    assert tags == [["d", "https://api.example/v1"], ["k", "web"], ["n", "l402"],
                    ["rank", "99"], ["verdict", "SAFE"], ["method", "GET"],
                    ["p_success", "0.99"], ["uptime", "1.00"], ["latency_ms", "120"],
                    ["price_sat", "10"], ["payee", PAYEE]]


def test_unknown_figures_are_left_out() -> None:
    tags = service_tags(ScoredService("https://api.example/v1", "POST", "INSUFFICIENT", 0.0,
                                      0.0, None, None, None))
    assert [key for key, _ in tags] == ["d", "k", "n", "rank", "verdict", "method",
                                        "p_success", "uptime"]
