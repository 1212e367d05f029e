"""routerrpc.Router (SendPaymentV2, TrackPaymentV2) and invoicesrpc.Invoices (LookupInvoiceV2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import grpc

from satrank.lightning import bolt11
from satrank.lightning import invoices_pb2_grpc as inv_grpc
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import router_pb2_grpc as router_grpc
from satrank.simnet import wire
from satrank.simnet.auth import abort
from satrank.simnet.payments import PaymentError, PaymentSpec
from satrank.simnet.simulator import SimNode, Simulator

DEFAULT_TIMEOUT_S = 60
UNKNOWN_NODE = -1


async def fail(context: Any, message: str) -> NoReturn:
    """lnd reports invalid payment arguments as plain errors (gRPC UNKNOWN)."""
    await abort(context, grpc.StatusCode.UNKNOWN, message)


class RouterService(router_grpc.RouterServicer):
    def __init__(self, sim: Simulator, node: SimNode) -> None:
        self.sim, self.node, self.net = sim, node, sim.net
        self._addr: dict[bytes, bytes | None] = {}

    async def _spec(self, r: Any, context: Any) -> PaymentSpec:
        if r.amt and r.amt_msat:
            await fail(context, "sat and msat arguments are mutually exclusive")
        if r.fee_limit_sat and r.fee_limit_msat:
            await fail(context, "sat and msat arguments are mutually exclusive")
        amount_msat = r.amt_msat or r.amt * 1000
        fee_limit_msat = r.fee_limit_msat or r.fee_limit_sat * 1000
        timeout_s = r.timeout_seconds or DEFAULT_TIMEOUT_S
        hinted = len(r.route_hints) > 0
        if r.payment_request:
            try:
                req = bolt11.decode(r.payment_request)
            except bolt11.InvalidPaymentRequest as exc:
                await fail(context, f"invalid payment request: {exc}")
            if req.amount_msat and amount_msat:
                await fail(context, "amount must not be specified when paying a non-zero "
                           "amount invoice")
            if not req.amount_msat and not amount_msat:
                await fail(context, "amount must be specified when paying a zero amount invoice")
            return PaymentSpec(
                dest=self.net.index.get(req.payee.hex(), UNKNOWN_NODE),
                amount_msat=req.amount_msat or amount_msat, payment_hash=req.payment_hash,
                payment_addr=req.payment_secret, final_cltv=req.min_final_cltv,
                fee_limit_msat=fee_limit_msat, timeout_s=timeout_s,
                payment_request=r.payment_request, hinted=hinted or bool(req.route_hints))
        if len(r.dest) != 33:
            await fail(context, "invalid vertex length of 0" if not r.dest
                       else f"invalid vertex length of {len(r.dest)}")
        if len(r.payment_hash) != 32:
            await fail(context, "invalid hash length of " + str(len(r.payment_hash)))
        if amount_msat <= 0:
            await fail(context, "amount must be greater than 0")
        return PaymentSpec(
            dest=self.net.index.get(r.dest.hex(), UNKNOWN_NODE), amount_msat=amount_msat,
            payment_hash=r.payment_hash, payment_addr=r.payment_addr or None,
            final_cltv=r.final_cltv_delta or bolt11.DEFAULT_MIN_FINAL_CLTV,
            fee_limit_msat=fee_limit_msat, timeout_s=timeout_s, hinted=hinted)

    async def SendPaymentV2(self, request: Any, context: Any) -> AsyncIterator[ln.Payment]:
        spec = await self._spec(request, context)
        try:
            payment = self.node.router.start(spec)
        except PaymentError as exc:
            await abort(context, getattr(grpc.StatusCode, exc.code), str(exc))
        self._addr[spec.payment_hash] = spec.payment_addr
        async for update in self.node.router.updates(payment):
            if request.no_inflight_updates and update.status == "IN_FLIGHT":
                continue
            yield wire.payment_pb(self.net, update, spec.payment_addr)

    async def TrackPaymentV2(self, request: Any, context: Any) -> AsyncIterator[ln.Payment]:
        payment = self.node.router.payments.get(request.payment_hash)
        if payment is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, "payment isn't initiated")
        addr = self._addr.get(request.payment_hash)
        async for update in self.node.router.updates(payment):
            if request.no_inflight_updates and update.status == "IN_FLIGHT":
                continue
            yield wire.payment_pb(self.net, update, addr)


class InvoicesService(inv_grpc.InvoicesServicer):
    def __init__(self, sim: Simulator, node: SimNode) -> None:
        self.node = node
        self._hints = wire.hints_pb(sim.route_hints(node.node))

    async def LookupInvoiceV2(self, request: Any, context: Any) -> ln.Invoice:
        ref = request.WhichOneof("invoice_ref")
        if ref == "payment_hash":
            inv = self.node.invoices.lookup(request.payment_hash)
        elif ref == "payment_addr":
            inv = self.node.invoices.lookup_addr(request.payment_addr)
        else:
            inv = None
        if inv is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, "unable to locate invoice")
        return wire.invoice_pb(inv, self._hints)
