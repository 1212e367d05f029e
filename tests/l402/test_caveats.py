"""Unit: one satisfier per caveat; unknown conditions skipped; repeats may only narrow."""

from __future__ import annotations

import pytest

from satrank.l402.caveats import (
    CaveatFailed,
    Refusal,
    RequestContext,
    evaluate_caveats,
    minted_caveats,
)
from tests.l402_support import DEPLOYMENT

NOW = 1_700_000_000
BASE = [c.encode() for c in minted_caveats(valid_until_unix=NOW + 100, credits=21,
                                             deployment=DEPLOYMENT)]


def test_minted_caveats_in_aperture_order() -> None:
    assert BASE == ["services=satrank:0", f"satrank_valid_until={NOW + 100}",
                    "satrank_credits=21", f"satrank_node={DEPLOYMENT}"]


@pytest.mark.parametrize(
    ("extra", "capability", "credits", "capabilities"),
    [
        ([], None, 21, None),
        (["preimage=" + "ab" * 32], None, 21, None),
        (["expiration=99"], None, 21, None),
        (["no-equals-sign"], None, 21, None),
        (["satrank_credits=5"], None, 5, None),
        ([f"satrank_valid_until={NOW + 50}"], None, 21, None),
        (["satrank_capabilities=profile,verdicts"], "profile", 21,
         frozenset({"profile", "verdicts"})),
        (["satrank_capabilities=profile,verdicts", "satrank_capabilities=profile"], "profile",
         21, frozenset({"profile"})),
        (["services=satrank:0"], None, 21, None),
        ([f"satrank_node={DEPLOYMENT}"], None, 21, None),
    ],
    ids=["as-minted", "lnget-preimage-skipped", "lsat-js-expiration-skipped",
         "garbage-skipped", "credits-narrowed", "validity-narrowed", "capability-allowed",
         "capability-narrowed", "services-repeated-equal", "node-repeated-equal"],
)
def test_accepted(extra: list[str], capability: str | None, credits: int,
                  capabilities: frozenset[str] | None) -> None:
    terms = evaluate_caveats(BASE + extra, RequestContext(NOW, capability, DEPLOYMENT))
    assert terms.credits == credits
    assert terms.capabilities == capabilities
    assert terms.minted_credits == 21  # what was paid for, whatever a copy narrowed to


@pytest.mark.parametrize(
    ("caveats", "now", "capability", "refusal"),
    [
        (BASE, NOW + 100, None, Refusal.EXPIRED),
        (BASE + [f"satrank_valid_until={NOW}"], NOW, None, Refusal.EXPIRED),
        (BASE + [f"satrank_valid_until={NOW + 101}"], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_credits=22"], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_credits=0"], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_credits=-1"], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_credits=1e3"], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_credits=99999999999"], NOW, None, Refusal.INVALID),
        (BASE + ["services=satrank:0,other:0"], NOW, None, Refusal.INVALID),
        (BASE + ["services=other:0"], NOW, None, Refusal.INVALID),
        (BASE + ["services=satrank"], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_capabilities=verdicts"], NOW, "profile", Refusal.INVALID),
        (BASE + ["satrank_capabilities=profile", "satrank_capabilities=profile,probe"], NOW,
         "profile", Refusal.INVALID),
        (BASE + ["satrank_capabilities="], NOW, None, Refusal.INVALID),
        (BASE[1:], NOW, None, Refusal.INVALID),
        (BASE[:1] + BASE[2:], NOW, None, Refusal.INVALID),
        (BASE[:2], NOW, None, Refusal.INVALID),
        (BASE[:3], NOW, None, Refusal.INVALID),
        (BASE + ["satrank_node=tbs:03" + "77" * 32], NOW, None, Refusal.INVALID),
        (BASE[:3] + ["satrank_node=bcrt:" + "5A" * 33], NOW, None, Refusal.INVALID),
        (BASE[:3] + ["satrank_node=bcrt"], NOW, None, Refusal.INVALID),
    ],
    ids=["expired-at-boundary", "narrowed-to-now", "validity-widened", "credits-widened",
         "credits-zero", "credits-negative", "credits-not-int", "credits-overflow",
         "services-widened", "services-other", "services-no-tier", "capability-refused",
         "capability-widened", "capability-empty", "no-services", "no-validity",
         "no-credits", "no-node", "node-changed", "node-upper-case", "node-no-pubkey"],
)
def test_refused(caveats: list[str], now: int, capability: str | None,
                 refusal: Refusal) -> None:
    with pytest.raises(CaveatFailed) as info:
        evaluate_caveats(caveats, RequestContext(now, capability, DEPLOYMENT))
    assert info.value.refusal is refusal


def test_a_token_of_another_deployment_is_refused_once_ours_is_known() -> None:
    other = [c.encode() for c in minted_caveats(valid_until_unix=NOW + 100, credits=21,
                                                deployment="tbs:03" + "77" * 32)]
    assert evaluate_caveats(other, RequestContext(NOW)).credits == 21  # not known yet
    with pytest.raises(CaveatFailed) as info:
        evaluate_caveats(other, RequestContext(NOW, deployment=DEPLOYMENT))
    assert info.value.refusal is Refusal.INVALID
