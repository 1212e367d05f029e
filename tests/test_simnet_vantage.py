"""Integration: `--vantage 3` over real gRPC+TLS, and the truth side channel over HTTP."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import lightning_pb2_grpc as ln_grpc
from satrank.lightning import router_pb2 as router
from satrank.lightning import router_pb2_grpc as router_grpc
from tests.simnet_fixture import SimnetHandle, start_simnet

TIMEOUT_S = 30


@pytest.fixture(scope="module")
def three() -> Iterator[SimnetHandle]:
    with tempfile.TemporaryDirectory(prefix="simnet-v3-") as tmp, start_simnet(
            Path(tmp), vantage=3) as handle:
        yield handle


def _stub(host: str, directory: Path) -> tuple[grpc.aio.Channel, ln_grpc.LightningStub]:
    creds = grpc.ssl_channel_credentials((directory / "tls.cert").read_bytes())
    channel = grpc.aio.secure_channel(host, creds)
    return channel, ln_grpc.LightningStub(channel)


def _md(directory: Path) -> tuple[tuple[str, str], ...]:
    return (("macaroon", (directory / "admin.macaroon").read_bytes().hex()),)


async def test_each_vantage_is_its_own_node(three: SimnetHandle) -> None:
    assert [v[0] for v in three.vantages] == ["oracle", "vantage-1", "vantage-2"]
    assert len({v[1] for v in three.vantages}) == 3
    channels = []
    for name, host, directory, pubkey in three.vantages:
        channel, stub = _stub(host, directory)
        async with channel:
            info = await stub.GetInfo(ln.GetInfoRequest(), metadata=_md(directory),
                                      timeout=TIMEOUT_S)
            assert (info.identity_pubkey, info.alias) == (pubkey, f"satrank-{name}")
            listed = await stub.ListChannels(ln.ListChannelsRequest(), metadata=_md(directory),
                                             timeout=TIMEOUT_S)
            channels.append({c.remote_pubkey for c in listed.channels})
    assert [len(c) for c in channels] == [8, 4, 2]
    # another node's macaroon is refused: each node has its own root key
    _, host, _, _ = three.vantages[1]
    channel, stub = _stub(host, three.vantages[1][2])
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetInfo(ln.GetInfoRequest(), metadata=_md(three.vantages[2][2]),
                               timeout=TIMEOUT_S)
    assert refused.value.code() == grpc.StatusCode.UNKNOWN


async def test_a_vantage_payment_moves_the_shared_state(three: SimnetHandle) -> None:
    oracle_channel, oracle = _stub(three.oracle_host, three.oracle_dir)
    _, v1_host, v1_dir, _ = three.vantages[1]
    v1_channel = grpc.aio.secure_channel(
        v1_host, grpc.ssl_channel_credentials((v1_dir / "tls.cert").read_bytes()))
    async with oracle_channel, v1_channel:
        before = await oracle.ChannelBalance(ln.ChannelBalanceRequest(),
                                             metadata=_md(three.oracle_dir), timeout=TIMEOUT_S)
        invoice = await oracle.AddInvoice(ln.Invoice(value=50_000), metadata=_md(
            three.oracle_dir), timeout=TIMEOUT_S)
        final = None
        async for update in router_grpc.RouterStub(v1_channel).SendPaymentV2(
                router.SendPaymentRequest(payment_request=invoice.payment_request,
                                          fee_limit_sat=1000, timeout_seconds=60),
                metadata=_md(v1_dir), timeout=TIMEOUT_S):
            final = update
        assert final is not None and final.status == ln.Payment.SUCCEEDED
        after = await oracle.ChannelBalance(ln.ChannelBalanceRequest(),
                                            metadata=_md(three.oracle_dir), timeout=TIMEOUT_S)
    assert after.local_balance.sat - before.local_balance.sat == 50_000


async def test_truth_side_channel_answers_and_advances_the_clock(three: SimnetHandle) -> None:
    async with httpx.AsyncClient(base_url=f"http://{three.truth_host}", timeout=30) as http:
        state = (await http.get("/state")).json()
        moved = (await http.post("/advance", params={"seconds": 7200})).json()
        assert moved["sim_s"] >= state["sim_s"] + 7200
        assert moved["payments"] > state["payments"]  # two hours of background traffic
        truth = (await http.get("/truth", params={
            "payer": three.vantages[2][3], "target": three.oracle_pubkey,
            "amount_msat": 1_000_000, "fee_limit_msat": 10_000})).json()
        assert truth["outcome"] in {"SUCCEEDED", "FAILURE_REASON_NO_ROUTE",
                                    "FAILURE_REASON_TIMEOUT"}
        assert truth["unix_time"] == moved["unix_time"]
        past = await http.get("/truth", params={
            "payer": three.oracle_pubkey, "target": three.customer_pubkey,
            "amount_msat": 1000, "at": state["unix_time"] - 1})
        assert past.status_code == 409
        unknown = await http.get("/truth", params={"payer": "00", "target": "11",
                                                   "amount_msat": 1})
        assert unknown.status_code == 400
