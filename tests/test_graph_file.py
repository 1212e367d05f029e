"""Unit: reading describegraph JSON, including the shared mainnet snapshot when present."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from satrank.lightning.graph_file import graph_from_json, load_graph_file
from tests.data import MAINNET

SMALL = {
    "nodes": [
        {"pub_key": "02" + "a" * 64, "alias": "A", "addresses": [{"network": "tcp",
                                                                  "addr": "1.2.3.4:9735"}]},
        {"pub_key": "03" + "b" * 64, "alias": None, "addresses": None, "last_update": 7},
    ],
    "edges": [
        {"channel_id": "565467835083587584", "chan_point": None, "last_update": 5,
         "node1_pub": "02" + "a" * 64, "node2_pub": "03" + "b" * 64, "capacity": "6789",
         "node1_policy": None,
         "node2_policy": {"time_lock_delta": 20, "min_htlc": "1000", "fee_base_msat": "100",
                          "fee_rate_milli_msat": "4294967295", "disabled": True,
                          "max_htlc_msat": None, "last_update": 5}},
    ],
}


def test_small_graph(tmp_path: Path) -> None:
    path = tmp_path / "g.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump(SMALL, f)
    graph = load_graph_file(path)
    assert graph == graph_from_json(SMALL)
    assert graph.nodes[0].addresses == ("1.2.3.4:9735",)
    assert graph.nodes[1].alias == "" and graph.nodes[1].last_update == 7
    edge = graph.edges[0]
    assert edge.channel_id == 565467835083587584 and edge.capacity_sat == 6789
    assert edge.node1_policy is None
    assert edge.node2_policy is not None
    assert edge.node2_policy.fee_rate_milli_msat == 4294967295
    assert edge.node2_policy.max_htlc_msat == 0 and edge.node2_policy.disabled


@pytest.mark.skipif(not MAINNET.exists(), reason="shared mainnet snapshot not present")
def test_mainnet_snapshot_counts() -> None:
    graph = load_graph_file(MAINNET)
    assert len(graph.nodes) == 12_827
    assert len(graph.edges) == 49_570
    assert sum(e.capacity_sat for e in graph.edges) == 575_880_373_608
    policies = [p for e in graph.edges for p in (e.node1_policy, e.node2_policy) if p]
    assert len(policies) == 96_988
    assert sum(p.disabled for p in policies) == 13_810
