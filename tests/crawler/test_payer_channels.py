"""Integration: the reference payer's own channels, read from simnet's LND over gRPC + TLS
(ListChannels): what each channel can send is its local balance above our reserve, and
a vantage whose LND refuses the call is left out, not fatal to the sync."""

from __future__ import annotations

from satrank.crawler.payer import vantage_channels
from satrank.lightning.lnd import LndClient
from tests.simnet_fixture import SimnetHandle


def _client(net: SimnetHandle, macaroon: str) -> LndClient:
    return LndClient.connect(net.oracle_host, (net.oracle_dir / "tls.cert").read_bytes(),
                             (net.oracle_dir / f"{macaroon}.macaroon").read_bytes())


async def test_channels_of_the_vantages_that_answer(simnet: SimnetHandle) -> None:
    async with _client(simnet, "readonly") as readonly, _client(simnet, "invoice") as refused:
        listed = await readonly.list_channels()
        # the invoice macaroon may not read channels: that vantage is left out
        got = await vantage_channels([(simnet.oracle_pubkey, readonly), ("02" + "ab" * 32,
                                                                          refused)])
    assert listed and {c.vantage for c in got} == {simnet.oracle_pubkey}
    assert [(c.peer, c.capacity_sat, c.sendable_sat, c.active) for c in got] == [
        (c.remote_pubkey, c.capacity_sat, c.local_balance_sat - c.local_reserve_sat, c.active)
        for c in listed]
    assert all(0 < c.local_reserve_sat < c.local_balance_sat for c in listed)
