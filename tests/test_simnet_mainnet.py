"""Integration: simnet serving the shared mainnet snapshot returns it unchanged over gRPC."""

from __future__ import annotations

import grpc

from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import lightning_pb2_grpc as ln_grpc
from satrank.lightning.graph_file import load_graph_file
from tests.data import MAINNET
from tests.simnet_fixture import SimnetHandle


async def test_describe_graph_returns_the_snapshot_unchanged(simnet_mainnet: SimnetHandle) -> None:
    creds = grpc.ssl_channel_credentials(
        root_certificates=(simnet_mainnet.oracle_dir / "tls.cert").read_bytes())
    md = (("macaroon", (simnet_mainnet.oracle_dir / "readonly.macaroon").read_bytes().hex()),)
    async with grpc.aio.secure_channel(
            simnet_mainnet.oracle_host, creds,
            options=[("grpc.max_receive_message_length", 200 * 1024 * 1024)]) as channel:
        graph = await ln_grpc.LightningStub(channel).DescribeGraph(
            ln.ChannelGraphRequest(), metadata=md, timeout=120)
    source = load_graph_file(MAINNET)
    assert (len(graph.nodes), len(graph.edges)) == (12_827, 49_570)
    assert [n.pub_key for n in graph.nodes] == [n.pubkey for n in source.nodes]
    for got, want in zip(graph.edges, source.edges, strict=True):
        assert (got.channel_id, got.capacity, got.node1_pub, got.node2_pub) == (
            want.channel_id, want.capacity_sat, want.node1_pub, want.node2_pub)
        for side, policy in (("node1_policy", want.node1_policy),
                             ("node2_policy", want.node2_policy)):
            assert got.HasField(side) == (policy is not None)
            msg = getattr(got, side)
            if policy is not None:
                assert (msg.fee_rate_milli_msat, msg.fee_base_msat, msg.time_lock_delta,
                        msg.min_htlc, msg.max_htlc_msat, msg.disabled) == (
                    policy.fee_rate_milli_msat, policy.fee_base_msat, policy.time_lock_delta,
                    policy.min_htlc_msat, policy.max_htlc_msat, policy.disabled)
