"""Integration: simnet over real gRPC+TLS with raw generated stubs and lnd's macaroon files."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from satrank.lightning import invoices_pb2 as inv
from satrank.lightning import invoices_pb2_grpc as inv_grpc
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import lightning_pb2_grpc as ln_grpc
from satrank.lightning import router_pb2 as router
from satrank.lightning import router_pb2_grpc as router_grpc
from tests.simnet_fixture import SimnetHandle

TIMEOUT_S = 30


@pytest.fixture
async def oracle_channel(simnet: SimnetHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with _channel(simnet.oracle_host, simnet.oracle_dir) as channel:
        yield channel


@pytest.fixture
async def customer_channel(simnet: SimnetHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with _channel(simnet.customer_host, simnet.customer_dir) as channel:
        yield channel


def _channel(host: str, directory: Path) -> grpc.aio.Channel:
    creds = grpc.ssl_channel_credentials(root_certificates=(directory / "tls.cert").read_bytes())
    return grpc.aio.secure_channel(host, creds)


def _md(directory: Path, name: str) -> tuple[tuple[str, str], ...]:
    return (("macaroon", (directory / f"{name}.macaroon").read_bytes().hex()),)


@pytest.mark.parametrize(("macaroon", "allowed"), [
    ("admin", {"GetInfo", "DescribeGraph", "AddInvoice", "LookupInvoiceV2", "SendPaymentV2"}),
    ("readonly", {"GetInfo", "DescribeGraph"}),
    ("invoice", {"AddInvoice", "LookupInvoiceV2"}),
    ("pay", {"GetInfo", "DescribeGraph", "SendPaymentV2"}),
], ids=["admin", "readonly", "invoice", "pay"])
async def test_each_macaroon_grants_what_lnd_grants(
        simnet: SimnetHandle, oracle_channel: grpc.aio.Channel, macaroon: str,
        allowed: set[str]) -> None:
    md = _md(simnet.oracle_dir, macaroon)
    lightning = ln_grpc.LightningStub(oracle_channel)
    calls = {
        "GetInfo": lambda: lightning.GetInfo(ln.GetInfoRequest(), metadata=md, timeout=TIMEOUT_S),
        "DescribeGraph": lambda: lightning.DescribeGraph(ln.ChannelGraphRequest(), metadata=md,
                                                         timeout=TIMEOUT_S),
        "AddInvoice": lambda: lightning.AddInvoice(ln.Invoice(value=10), metadata=md,
                                                   timeout=TIMEOUT_S),
        "LookupInvoiceV2": lambda: inv_grpc.InvoicesStub(oracle_channel).LookupInvoiceV2(
            inv.LookupInvoiceMsg(payment_hash=os.urandom(32)), metadata=md, timeout=TIMEOUT_S),
    }
    for name, call in calls.items():
        try:
            await call()
            outcome = "ok"
        except grpc.aio.AioRpcError as exc:
            outcome = "denied" if exc.details() == "permission denied" else exc.code().name
            if name == "LookupInvoiceV2" and exc.code() == grpc.StatusCode.NOT_FOUND:
                outcome = "ok"  # authorised, and the random hash is unknown
        assert outcome == ("ok" if name in allowed else "denied"), (name, outcome)
    stream = router_grpc.RouterStub(oracle_channel).SendPaymentV2(
        router.SendPaymentRequest(dest=bytes.fromhex(simnet.customer_pubkey), amt=1,
                                  payment_hash=os.urandom(32), timeout_seconds=5),
        metadata=md, timeout=TIMEOUT_S)
    try:
        await stream.read()
        sent = "ok"
    except grpc.aio.AioRpcError as exc:
        sent = "denied" if exc.details() == "permission denied" else exc.code().name
    assert sent == ("ok" if "SendPaymentV2" in allowed else "denied")


async def test_missing_and_forged_macaroons_are_refused_as_lnd_does(
        simnet: SimnetHandle, oracle_channel: grpc.aio.Channel, tmp_path: Path) -> None:
    lightning = ln_grpc.LightningStub(oracle_channel)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await lightning.GetInfo(ln.GetInfoRequest(), timeout=TIMEOUT_S)
    assert missing.value.code() == grpc.StatusCode.UNKNOWN
    assert missing.value.details() == "expected 1 macaroon, got 0"
    # the customer's admin macaroon is signed by another root key
    with pytest.raises(grpc.aio.AioRpcError) as forged:
        await lightning.GetInfo(ln.GetInfoRequest(), metadata=_md(simnet.customer_dir, "admin"),
                                timeout=TIMEOUT_S)
    assert forged.value.code() == grpc.StatusCode.UNKNOWN
    assert "verification failed" in (forged.value.details() or "")


async def _final(stream: grpc.aio.UnaryStreamCall) -> tuple[list[ln.Payment], ln.Payment]:
    updates = [update async for update in stream]
    return updates, updates[-1]


async def test_probe_with_random_hash_ends_incorrect_payment_details(
        simnet: SimnetHandle, oracle_channel: grpc.aio.Channel) -> None:
    md = _md(simnet.oracle_dir, "pay")
    lightning = ln_grpc.LightningStub(oracle_channel)
    routerstub = router_grpc.RouterStub(oracle_channel)
    graph = await lightning.DescribeGraph(ln.ChannelGraphRequest(), metadata=md,
                                          timeout=TIMEOUT_S)
    reached = None
    for node in graph.nodes[:60]:
        updates, final = await _final(routerstub.SendPaymentV2(router.SendPaymentRequest(
            dest=bytes.fromhex(node.pub_key), amt=1000, payment_hash=os.urandom(32),
            fee_limit_sat=100, timeout_seconds=60), metadata=md, timeout=TIMEOUT_S))
        assert updates[0].status == ln.Payment.IN_FLIGHT
        assert final.status == ln.Payment.FAILED
        if final.failure_reason == ln.FAILURE_REASON_INCORRECT_PAYMENT_DETAILS:
            reached = final
            break
    assert reached is not None, "no node of the generated graph was reachable"
    last = reached.htlcs[-1]
    assert last.failure.code == ln.Failure.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS
    assert last.failure.failure_source_index == len(last.route.hops)
    assert last.route.hops[-1].pub_key == node.pub_key
    assert reached.payment_preimage == "0" * 64
    tracked = [u async for u in routerstub.TrackPaymentV2(router.TrackPaymentRequest(
        payment_hash=bytes.fromhex(reached.payment_hash)), metadata=md, timeout=TIMEOUT_S)]
    assert tracked[-1].failure_reason == ln.FAILURE_REASON_INCORRECT_PAYMENT_DETAILS


async def test_customer_pays_oracle_invoice_and_subscription_sees_it(
        simnet: SimnetHandle, oracle_channel: grpc.aio.Channel,
        customer_channel: grpc.aio.Channel) -> None:
    invoice_md = _md(simnet.oracle_dir, "invoice")
    oracle = ln_grpc.LightningStub(oracle_channel)
    added = await oracle.AddInvoice(ln.Invoice(value=2100, memo="simnet test", expiry=600),
                                    metadata=invoice_md, timeout=TIMEOUT_S)
    subscription = oracle.SubscribeInvoices(ln.InvoiceSubscription(add_index=added.add_index),
                                            metadata=invoice_md, timeout=TIMEOUT_S)
    decoded = await oracle.DecodePayReq(ln.PayReqString(pay_req=added.payment_request),
                                        metadata=_md(simnet.oracle_dir, "admin"),
                                        timeout=TIMEOUT_S)
    assert decoded.destination == simnet.oracle_pubkey
    assert decoded.num_satoshis == 2100 and decoded.payment_hash == added.r_hash.hex()
    _, final = await _final(router_grpc.RouterStub(customer_channel).SendPaymentV2(
        router.SendPaymentRequest(payment_request=added.payment_request, fee_limit_sat=100,
                                  timeout_seconds=60),
        metadata=_md(simnet.customer_dir, "admin"), timeout=TIMEOUT_S))
    assert final.status == ln.Payment.SUCCEEDED, final
    preimage = bytes.fromhex(final.payment_preimage)
    assert hashlib.sha256(preimage).digest() == added.r_hash
    looked_up = await oracle.LookupInvoice(ln.PaymentHash(r_hash=added.r_hash),
                                           metadata=invoice_md, timeout=TIMEOUT_S)
    assert looked_up.state == ln.Invoice.SETTLED
    assert looked_up.r_preimage == preimage and looked_up.amt_paid_sat == 2100
    v2 = await inv_grpc.InvoicesStub(oracle_channel).LookupInvoiceV2(
        inv.LookupInvoiceMsg(payment_hash=added.r_hash), metadata=invoice_md, timeout=TIMEOUT_S)
    assert v2.state == ln.Invoice.SETTLED
    async with asyncio.timeout(TIMEOUT_S):
        async for event in subscription:
            if event.r_hash == added.r_hash and event.state == ln.Invoice.SETTLED:
                break
    subscription.cancel()
