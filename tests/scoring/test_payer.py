"""Unit: the reference payer is our vantage's own channels (ListChannels), private ones
included: payments enter the graph at their peers, fee-free, only at amounts an active
channel's local balance can send; hubs only without a vantage."""

from __future__ import annotations

import numpy as np

from satrank.scoring.budgets import AMOUNT_GRID_SAT, NORMAL, TIGHT, FeeBudget
from satrank.scoring.engine import ScoreResult, ScoringInputs, score_nodes
from satrank.scoring.evidence import empty_probe_evidence
from satrank.scoring.payer import OwnChannel
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_761_364_800.0
BIG = 5_000_000
VANTAGE = pubkey(99)  # private channels only: not in the graph


def _score(*channels: OwnChannel, payer_pubkeys: tuple[str, ...] = (VANTAGE,)) -> ScoreResult:
    # 0 - 1 - 2 - 3 in a line, every hop charging 1 sat + 100 ppm
    graph = arrays_from_graph(small_graph(4, [(0, 1, BIG), (1, 2, BIG), (2, 3, BIG)]))
    return score_nodes(ScoringInputs(graph, 800_100, empty_probe_evidence(),
                                     payer_pubkeys=payer_pubkeys, payer_channels=channels),
                       now_unix=NOW)


def _reach(res: ScoreResult, budget: FeeBudget, amount: int) -> list[bool]:
    model = res.model
    row = model.reachable[model.budgets.index(budget), AMOUNT_GRID_SAT.index(amount)]
    return [bool(r) for r in row]


def test_a_private_channel_is_the_first_hop_and_its_local_balance_limits_it() -> None:
    res = _score(OwnChannel(VANTAGE, pubkey(0), 200_000, 60_000, True),
                 # a bigger channel to node 2 that is inactive (peer offline) carries nothing
                 OwnChannel(VANTAGE, pubkey(2), 2_000_000, 1_900_000, False))
    assert res.payer == f"vantage:{VANTAGE}"
    # 30k sat fits the 60k local balance: node 0 is the payer's peer (own channel, no fee),
    # then 4 sat a hop: nodes 1 and 2 within 10 sat, node 3 not
    assert _reach(res, TIGHT, 30_000) == [True, True, True, False]
    assert _reach(res, NORMAL, 30_000) == [True, True, True, True]
    # 100k sat is more than any active own channel can send: nothing is reachable, though
    # the graph's channels would carry it
    assert _reach(res, NORMAL, 100_000) == [False] * 4
    assert np.all(res.model.p_success()[:, AMOUNT_GRID_SAT.index(100_000)] == 0.0)


def test_channels_of_several_vantages_make_one_payer_named_by_all() -> None:
    other = pubkey(98)
    res = _score(OwnChannel(VANTAGE, pubkey(0), 200_000, 60_000, True),
                 OwnChannel(other, pubkey(3), 2_000_000, 1_500_000, True),
                 payer_pubkeys=(VANTAGE, other))
    assert res.payer == f"vantage:{min(VANTAGE, other)},{max(VANTAGE, other)}"
    # 300k sat enters at node 3 only (the other vantage's balance); node 2 is 31 sat away
    assert _reach(res, TIGHT, 300_000) == [False, False, False, True]
    assert _reach(res, NORMAL, 300_000) == [True] * 4


def test_a_restarting_vantage_with_no_active_channel_still_pays_from_its_channels() -> None:
    res = _score(OwnChannel(VANTAGE, pubkey(3), 2_000_000, 1_500_000, False))
    assert res.payer == f"vantage:{VANTAGE}"
    assert _reach(res, TIGHT, 300_000) == [False, False, False, True]


def test_hubs_only_without_channels_or_a_vantage_in_the_graph() -> None:
    res = _score()
    assert res.payer == "hubs:8"
    assert _reach(res, NORMAL, 100_000) == [True] * 4
