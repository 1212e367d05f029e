"""`LndClient`: the `LightningBackend` over lnd's gRPC (grpc.aio, TLS, macaroon).

Works against a real lnd and against simnet alike: both speak the same wire (protos/).
Every call carries a deadline; grpc errors are translated once, in `_rpc_errors`, into
`lightning.errors`; idempotent reads are retried with backoff while the node is
UNAVAILABLE (restarting, not yet listening). Nothing returned is a protobuf object.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

import grpc

from satrank.config import LndSettings, VantageNode
from satrank.lightning import invoices_pb2 as inv
from satrank.lightning import invoices_pb2_grpc, lightning_pb2_grpc, router_pb2_grpc
from satrank.lightning import lightning_pb2 as ln
from satrank.lightning import lnd_values as values
from satrank.lightning import router_pb2 as router
from satrank.lightning.backend import (
    AddedInvoice,
    ChannelBackupSnapshot,
    ChannelGraph,
    DecodedPayReq,
    DeferredGraph,
    GraphEdge,
    HtlcAttempt,
    InvoiceStatus,
    LocalChannel,
    NetworkStats,
    NodeInfo,
    NodeStatus,
    PaymentResult,
    ProbeResult,
    QueriedRoute,
)
from satrank.lightning.errors import (
    LightningError,
    LightningNotFound,
    LightningPermissionDenied,
    LightningRejected,
    LightningTimeout,
    LightningUnavailable,
)
from satrank.lightning.probes import classify_probe, failing_channel
from satrank.outcomes import ProbeOutcome

_log = logging.getLogger(__name__)

DEFAULT_RPC_TIMEOUT_S = LndSettings.rpc_timeout_s  # unary calls, unless the caller passes its own
DESCRIBE_GRAPH_TIMEOUT_S = 120.0  # mainnet graph: ~15 MB to build, send and decode
PAYMENT_DEADLINE_MARGIN_S = 15.0  # lnd stops new attempts at timeout_seconds; let HTLCs settle
MAX_RECEIVE_MESSAGE_BYTES = 200 * 1024 * 1024  # lnd's own MaxGrpcMsgSize
RETRY_ATTEMPTS = 4  # idempotent reads: first try + 3 retries on UNAVAILABLE
RETRY_BACKOFF_S = 0.2  # doubled after every retry
RETRY_BACKOFF_MAX_S = 2.0
PROBE_MAX_PARTS = 1  # a probe is one HTLC, like lnd's own probes
TRACK_ROUND_S = 60.0  # each TrackPaymentV2 of a held probe; then it is asked again
_FINAL = (ln.Payment.SUCCEEDED, ln.Payment.FAILED)

Role = Literal["invoice", "readonly", "pay"]
T = TypeVar("T")

# lnd reports auth and startup problems as plain errors (status UNKNOWN): recognise them.
_AUTH_MARKERS = ("macaroon", "permission denied", "verification failed")
_NOT_READY_MARKERS = ("wallet locked", "not yet ready", "waiting to start",
                      "server is still in the process of starting")


def error_for_status(code: grpc.StatusCode, details: str) -> LightningError:
    """The `lightning.errors` exception for a grpc status (pure; the one mapping table)."""
    text = details or code.name
    lowered = text.lower()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return LightningTimeout(text)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        return LightningUnavailable(text)
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return LightningPermissionDenied(text)
    if code == grpc.StatusCode.NOT_FOUND:
        return LightningNotFound(text)
    if code == grpc.StatusCode.UNKNOWN:
        if any(m in lowered for m in _AUTH_MARKERS):
            return LightningPermissionDenied(text)
        if any(m in lowered for m in _NOT_READY_MARKERS):
            return LightningUnavailable(text)
    return LightningRejected(text)


@contextmanager
def _rpc_errors(method: str) -> Iterator[None]:
    """Translate grpc failures of one call into `lightning.errors`, chaining the original."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        raise error_for_status(exc.code(), f"{method}: {exc.details()}") from exc


async def _stream(method: str, start: Callable[[], Any],
                  convert: Callable[[Any], T]) -> AsyncIterator[T]:
    """A server stream's messages, converted, errors translated. The call starts on the
    first iteration and is cancelled when the consumer stops (closes or is cancelled)."""
    call = start()
    try:
        with _rpc_errors(method):
            async for message in call:
                yield convert(message)
    finally:
        call.cancel()


def _read_file(path: Path | None, variable: str) -> bytes:
    if path is None:
        raise LightningError(f"{variable} is not set")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LightningError(f"{variable}: cannot read {path}: {exc.strerror}") from exc


def open_lnd(settings: LndSettings, role: Role) -> LndClient:
    """A client for `settings.grpc_host` with the macaroon of `role` (no I/O until used)."""
    macaroon_path, variable = {
        "invoice": (settings.invoice_macaroon_path, "LND_INVOICE_MACAROON_PATH"),
        "readonly": (settings.readonly_macaroon_path, "LND_READONLY_MACAROON_PATH"),
        "pay": (settings.pay_macaroon_path, "LND_PAY_MACAROON_PATH"),
    }[role]
    return LndClient.connect(
        settings.grpc_host,
        _read_file(settings.tls_cert_path, "LND_TLS_CERT_PATH"),
        _read_file(macaroon_path, variable),
        rpc_timeout_s=settings.rpc_timeout_s,
    )


def open_vantage(node: VantageNode, *, rpc_timeout_s: float) -> LndClient:
    """A client for the vantage node `node` with its pay macaroon (no I/O until used)."""
    variable = f"LND_VANTAGE_{node.name.upper()}_"
    return LndClient.connect(
        node.grpc_host, _read_file(node.tls_cert_path, variable + "TLS_CERT"),
        _read_file(node.pay_macaroon_path, variable + "MACAROON"), rpc_timeout_s=rpc_timeout_s)


class LndClient:
    """One lnd node seen through one macaroon. Create with `connect` or `open_lnd`."""

    def __init__(self, host: str, tls_cert: bytes, macaroon: bytes, *,
                 rpc_timeout_s: float = DEFAULT_RPC_TIMEOUT_S) -> None:
        if b"-----BEGIN CERTIFICATE-----" not in tls_cert:
            raise LightningError("the TLS certificate is not PEM (expected lnd's tls.cert)")
        self._host = host
        self._credentials = grpc.ssl_channel_credentials(root_certificates=tls_cert)
        self._metadata = (("macaroon", macaroon.hex()),)
        self._timeout_s = rpc_timeout_s
        self._channel: Any = None  # created inside the running event loop, on first use
        self._lightning: Any = None
        self._router: Any = None
        self._invoices: Any = None

    @classmethod
    def connect(cls, host: str, tls_cert: bytes, macaroon: bytes, *,
                rpc_timeout_s: float = DEFAULT_RPC_TIMEOUT_S) -> LndClient:
        """A client for `host` ("HOST:PORT"); the TLS connection opens on the first call."""
        return cls(host, tls_cert, macaroon, rpc_timeout_s=rpc_timeout_s)

    def _stubs(self) -> tuple[Any, Any, Any]:
        if self._channel is None:
            self._channel = grpc.aio.secure_channel(self._host, self._credentials, options=[
                ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
            ])
            self._lightning = lightning_pb2_grpc.LightningStub(self._channel)
            self._router = router_pb2_grpc.RouterStub(self._channel)
            self._invoices = invoices_pb2_grpc.InvoicesStub(self._channel)
        return self._lightning, self._router, self._invoices

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close()

    async def __aenter__(self) -> LndClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ plumbing

    async def _call(self, method: str, invoke: Callable[[float], Awaitable[T]], *,
                    timeout_s: float | None = None, idempotent: bool = True) -> T:
        """Run one unary call with a deadline; retry reads while the node is UNAVAILABLE."""
        timeout = self._timeout_s if timeout_s is None else timeout_s
        delay = RETRY_BACKOFF_S
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                with _rpc_errors(method):
                    return await invoke(timeout)
            except LightningUnavailable as exc:
                if (not idempotent or isinstance(exc, LightningTimeout)
                        or attempt == RETRY_ATTEMPTS):
                    raise
                _log.info("%s: node unavailable, retry %d in %.1fs", method, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_BACKOFF_MAX_S)
        raise AssertionError("unreachable")

    def _lightning_call(self, name: str, request: Any, *, timeout_s: float | None = None,
                        idempotent: bool = True) -> Awaitable[Any]:
        def invoke(timeout: float) -> Awaitable[Any]:
            stub = self._stubs()[0]
            return getattr(stub, name)(request, metadata=self._metadata, timeout=timeout)  # type: ignore[no-any-return]
        return self._call(name, invoke, timeout_s=timeout_s, idempotent=idempotent)

    async def _final_payment(self, method: str, call: Any,
                             on_update: Callable[[Any], None] | None = None) -> Any:
        """Read a payment stream to its end; the last message is the final state."""
        last = None
        with _rpc_errors(method):
            async for payment in call:
                last = payment
                if on_update is not None:
                    on_update(payment)
                if payment.status in _FINAL:
                    break
        if last is None:
            raise LightningRejected(f"{method}: the stream ended without a payment update")
        return last

    # ------------------------------------------------------------------ LightningBackend

    async def get_info(self) -> NodeStatus:
        return values.node_status(await self._lightning_call("GetInfo", ln.GetInfoRequest()))

    async def describe_graph(self, *, include_unannounced: bool = False,
                             timeout_s: float = DESCRIBE_GRAPH_TIMEOUT_S) -> ChannelGraph:
        return (await self.describe_graph_deferred(include_unannounced=include_unannounced,
                                                   timeout_s=timeout_s)).graph()

    async def describe_graph_deferred(
            self, *, include_unannounced: bool = False,
            timeout_s: float = DESCRIBE_GRAPH_TIMEOUT_S) -> DeferredGraph:
        request = ln.ChannelGraphRequest(include_unannounced=include_unannounced)
        graph = await self._lightning_call("DescribeGraph", request, timeout_s=timeout_s)
        fingerprint = values.graph_fingerprint(graph)
        return DeferredGraph(fingerprint,
                             lambda: values.channel_graph(graph, fingerprint=fingerprint),
                             lambda: values.channel_graph_records(graph))

    async def add_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> AddedInvoice:
        request = ln.Invoice(value=amount_sat, memo=memo, expiry=expiry_s)
        # Not idempotent: a retry after a lost answer would mint a second invoice.
        response = await self._lightning_call("AddInvoice", request, idempotent=False)
        return values.added_invoice(response)

    async def lookup_invoice(self, payment_hash: bytes) -> InvoiceStatus:
        request = ln.PaymentHash(r_hash=payment_hash)
        return values.invoice_status(await self._lightning_call("LookupInvoice", request))

    async def lookup_invoice_v2(self, payment_hash: bytes) -> InvoiceStatus:
        """Invoices.LookupInvoiceV2 (lnd requires invoices:write for it)."""
        request = inv.LookupInvoiceMsg(payment_hash=payment_hash)

        def invoke(timeout: float) -> Awaitable[Any]:
            stub = self._stubs()[2]
            return stub.LookupInvoiceV2(request, metadata=self._metadata, timeout=timeout)  # type: ignore[no-any-return]
        return values.invoice_status(await self._call("LookupInvoiceV2", invoke))

    def subscribe_invoices(self, *, add_index: int = 0, settle_index: int = 0,
                           timeout_s: float | None = None) -> AsyncIterator[InvoiceStatus]:
        """Stream invoice adds and settles (lnd never sends CANCELED/ACCEPTED here).

        The stream waits for events, so it has no deadline unless `timeout_s` is given;
        the caller ends it by closing the iterator or cancelling its task.
        """
        request = ln.InvoiceSubscription(add_index=add_index, settle_index=settle_index)
        return _stream("SubscribeInvoices", lambda: self._stubs()[0].SubscribeInvoices(
            request, metadata=self._metadata, timeout=timeout_s), values.invoice_status)

    async def export_all_channel_backups(self) -> ChannelBackupSnapshot:
        """ExportAllChannelBackups (offchain:read): the current backup of every channel."""
        snapshot = await self._lightning_call("ExportAllChannelBackups",
                                              ln.ChanBackupExportRequest())
        return values.channel_backup_snapshot(snapshot)

    def subscribe_channel_backups(self) -> AsyncIterator[ChannelBackupSnapshot]:
        """SubscribeChannelBackups: a new snapshot whenever a channel opens or closes.

        Like lnd, the stream sends nothing until a channel changes and has no deadline;
        the caller ends it by closing the iterator or cancelling its task.
        """
        return _stream("SubscribeChannelBackups", lambda: self._stubs()[0].SubscribeChannelBackups(
            ln.ChannelBackupSubscription(), metadata=self._metadata),
            values.channel_backup_snapshot)

    async def send_probe(self, destination: str, amount_sat: int, *, fee_limit_sat: int,
                         timeout_s: float, on_htlc: Callable[[], None] | None = None,
                         until_final: bool = False) -> ProbeResult:
        """Send a payment the destination cannot settle (random hash) and classify its end.

        Raises only when the node itself fails us (unavailable, permission, rejected
        request); every routing result, our own deadline included, is a `ProbeResult`.
        `on_htlc` is called when lnd reports an HTLC sent (the probe now costs liquidity).
        `until_final`: a probe still in flight at our deadline (its HTLC held downstream)
        is followed with TrackPaymentV2 until lnd reports it final, however long that is.
        """
        payment_hash = secrets.token_bytes(32)
        request = router.SendPaymentRequest(
            dest=bytes.fromhex(destination), amt=amount_sat,
            payment_hash=payment_hash, fee_limit_sat=fee_limit_sat,
            timeout_seconds=max(1, math.ceil(timeout_s)), max_parts=PROBE_MAX_PARTS,
            no_inflight_updates=False,
        )
        def on_update(update: Any) -> None:
            if on_htlc is not None and update.htlcs:
                on_htlc()

        started = time.monotonic()
        call = self._stubs()[1].SendPaymentV2(
            request, metadata=self._metadata, timeout=timeout_s + PAYMENT_DEADLINE_MARGIN_S)
        try:
            payment = await self._final_payment("SendPaymentV2", call, on_update)
        except LightningTimeout:
            payment = None
        finally:
            call.cancel()
        while until_final and (payment is None or payment.status not in _FINAL):
            track = self._stubs()[1].TrackPaymentV2(
                router.TrackPaymentRequest(payment_hash=payment_hash),
                metadata=self._metadata, timeout=TRACK_ROUND_S)
            try:
                payment = await self._final_payment("TrackPaymentV2", track, on_update)
            except LightningTimeout:
                payment = None  # still in flight: ask again
            finally:
                track.cancel()
        duration_ms = round((time.monotonic() - started) * 1000)
        return probe_result(destination, amount_sat, payment, duration_ms)

    async def pay_invoice(self, payment_request: str, *, fee_limit_sat: int,
                          timeout_s: float) -> PaymentResult:
        request = router.SendPaymentRequest(
            payment_request=payment_request, fee_limit_sat=fee_limit_sat,
            timeout_seconds=max(1, math.ceil(timeout_s)),
        )
        call = self._stubs()[1].SendPaymentV2(
            request, metadata=self._metadata, timeout=timeout_s + PAYMENT_DEADLINE_MARGIN_S)
        try:
            return values.payment_result(await self._final_payment("SendPaymentV2", call))
        finally:
            call.cancel()

    async def track_payment(self, payment_hash: bytes, *,
                            timeout_s: float | None = None) -> PaymentResult:
        """Router.TrackPaymentV2 until the payment is final (or the deadline passes)."""
        request = router.TrackPaymentRequest(payment_hash=payment_hash)
        call = self._stubs()[1].TrackPaymentV2(
            request, metadata=self._metadata, timeout=timeout_s or self._timeout_s)
        try:
            return values.payment_result(await self._final_payment("TrackPaymentV2", call))
        finally:
            call.cancel()

    # ------------------------------------------------------------------ other reads

    async def get_node_info(self, pubkey: str, *, include_channels: bool = False) -> NodeInfo:
        request = ln.NodeInfoRequest(pub_key=pubkey, include_channels=include_channels)
        return values.node_info(await self._lightning_call("GetNodeInfo", request))

    async def get_chan_info(self, channel_id: int) -> GraphEdge:
        request = ln.ChanInfoRequest(chan_id=channel_id)
        return values.graph_edge(await self._lightning_call("GetChanInfo", request))

    async def decode_pay_req(self, payment_request: str) -> DecodedPayReq:
        request = ln.PayReqString(pay_req=payment_request)
        return values.decoded_pay_req(await self._lightning_call("DecodePayReq", request))

    async def query_routes(self, destination: str, amount_sat: int, *,
                           fee_limit_sat: int) -> QueriedRoute | None:
        """The route lnd would try first, or None when it finds none."""
        request = ln.QueryRoutesRequest(pub_key=destination, amt=amount_sat,
                                        fee_limit=ln.FeeLimit(fixed=fee_limit_sat))
        try:
            response = await self._lightning_call("QueryRoutes", request)
        except LightningRejected as exc:
            if "unable to find a path" in str(exc) or "no route" in str(exc).lower():
                return None
            raise
        return values.queried_route(response)

    async def list_channels(self, *, active_only: bool = False) -> tuple[LocalChannel, ...]:
        request = ln.ListChannelsRequest(active_only=active_only)
        response = await self._lightning_call("ListChannels", request)
        return tuple(map(values.local_channel, response.channels))

    async def get_network_info(self) -> NetworkStats:
        response = await self._lightning_call("GetNetworkInfo", ln.NetworkInfoRequest())
        return values.network_stats(response)


def probe_result(destination: str, amount_sat: int, payment: Any,
                 duration_ms: int) -> ProbeResult:
    """Turn the final Payment of a probe (None: our deadline passed) into a ProbeResult."""
    htlcs: tuple[HtlcAttempt, ...] = ()
    if payment is None:
        status, reason = "IN_FLIGHT", "FAILURE_REASON_NONE"
    else:
        status = ln.Payment.PaymentStatus.Name(payment.status)
        reason = ln.PaymentFailureReason.Name(payment.failure_reason)
        htlcs = tuple(map(values.htlc_attempt, payment.htlcs))
    last = payment.htlcs[-1] if htlcs else None
    hops = htlcs[-1].hops if htlcs else ()
    code = htlcs[-1].failure_code if htlcs else None
    index = htlcs[-1].failure_source_index if htlcs else None
    outcome = classify_probe(status, reason, code, index, len(hops))
    return ProbeResult(
        destination=destination.lower(), amount_sat=amount_sat, outcome=outcome,
        failure_code=code, failure_source_index=index,
        failing_channel_id=None if code is None or outcome is ProbeOutcome.REACHED
        else failing_channel(index, hops),
        hops=hops, fee_msat=last.route.total_fees_msat if last is not None else 0,
        duration_ms=duration_ms, attempts=len(htlcs), htlcs=htlcs,
    )
