"""routerrpc.Router and invoicesrpc.Invoices, every RPC protos/ declares.

Mission control: simnet keeps no memory across payments (each payment prunes only its own
failed pairs), so QueryMissionControl answers an empty history and ResetMissionControl has
nothing to forget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import grpc

from satrank.lightning import bolt11
from satrank.lightning import invoices_pb2_grpc as inv_grpc
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import router_pb2 as rt
from satrank.lightning import router_pb2_grpc as router_grpc
from satrank.simnet import wire
from satrank.simnet.auth import abort
from satrank.simnet.pathfinding import Hop, Route
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


    async def SendToRouteV2(self, request: Any, context: Any) -> ln.HTLCAttempt:
        if len(request.payment_hash) != 32:
            await fail(context, "invalid hash length of " + str(len(request.payment_hash)))
        route = self._route(request.route)
        if route is None:
            await fail(context, "unable to send to route: route is not usable from this node")
        last = request.route.hops[-1] if request.route.hops else None
        addr = last.mpp_record.payment_addr if last is not None and last.HasField(
            "mpp_record") else None
        attempt = await self.node.router.send_to_route(request.payment_hash, route, addr)
        return wire.attempt_pb(self.net, attempt, addr)

    def _route(self, r: Any) -> Route | None:
        """Our Route for an lnrpc.Route: each hop's channel must join the previous node to
        the hop's node, and the first must be one of ours."""
        net, prev = self.net, self.node.node.index
        hops = []
        for h in r.hops:
            c = net.chan_index.get(h.chan_id)
            node = net.index.get(h.pub_key.lower())
            if c is None or node is None or {int(net.node1[c]), int(net.node2[c])} != {prev, node}:
                return None
            amt = h.amt_to_forward_msat or h.amt_to_forward * 1000
            hops.append(Hop(edge=net.edge_of(c, prev), node=node, amt_to_forward_msat=amt,
                            fee_msat=h.fee_msat or h.fee * 1000, expiry=h.expiry))
            prev = node
        if not hops:
            return None
        total = r.total_amt_msat or r.total_amt * 1000
        return Route(hops=tuple(hops), total_amt_msat=total,
                     total_fees_msat=total - hops[-1].amt_to_forward_msat,
                     total_time_lock=r.total_time_lock)

    async def EstimateRouteFee(self, request: Any, context: Any) -> rt.RouteFeeResponse:
        if request.payment_request:
            try:
                req = bolt11.decode(request.payment_request)
            except bolt11.InvalidPaymentRequest as exc:
                await fail(context, f"invalid payment request: {exc}")
            dest, amount = req.payee.hex(), req.amount_msat
        else:
            dest, amount = request.dest.hex(), request.amt_sat * 1000
        index = self.net.index.get(dest)
        route = None if index is None else self.sim.finder.find_route(
            self.node.node, index, amount, bolt11.DEFAULT_MIN_FINAL_CLTV, set())
        if route is None:
            return rt.RouteFeeResponse(failure_reason=ln.FAILURE_REASON_NO_ROUTE)
        return rt.RouteFeeResponse(routing_fee_msat=route.total_fees_msat,
                                   time_lock_delay=route.total_time_lock - self.net.block_height)

    async def QueryMissionControl(self, request: Any, context: Any,
                                  ) -> rt.QueryMissionControlResponse:
        return rt.QueryMissionControlResponse()

    async def ResetMissionControl(self, request: Any, context: Any,
                                  ) -> rt.ResetMissionControlResponse:
        return rt.ResetMissionControlResponse()


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

    async def SubscribeSingleInvoice(self, request: Any, context: Any,
                                     ) -> AsyncIterator[ln.Invoice]:
        """The invoice's current state, then each change, until it is settled or canceled."""
        inv = self.node.invoices.lookup(request.r_hash)
        if inv is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, "unable to locate invoice")
        yield wire.invoice_pb(inv, self._hints)
        if inv.state != inv.state.OPEN:
            return
        async for update in self.node.invoices.subscribe(0, 0):
            if update.r_hash == request.r_hash and update.state != update.state.OPEN:
                yield wire.invoice_pb(update, self._hints)
                return
