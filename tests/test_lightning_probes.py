"""Unit: probe classification, failing-channel attribution and grpc status mapping."""

from __future__ import annotations

import grpc
import pytest

from satrank.lightning import lightning_pb2 as ln
from satrank.lightning.backend import HtlcAttempt, ProbeResult, RouteHop
from satrank.lightning.errors import (
    LightningError,
    LightningNotFound,
    LightningPermissionDenied,
    LightningRejected,
    LightningTimeout,
    LightningUnavailable,
)
from satrank.lightning.lnd import error_for_status, probe_result
from satrank.lightning.probes import (
    ChannelObservation,
    channel_observations,
    classify_probe,
    failing_channel,
    htlc_attempts,
)
from satrank.outcomes import ProbeOutcome

R = ProbeOutcome
NO_ROUTE = "FAILURE_REASON_NO_ROUTE"
DETAILS = "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
UNKNOWN_DETAILS = "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"
TEMP = "TEMPORARY_CHANNEL_FAILURE"

# (status, failure_reason, last code, source index, hop count) -> outcome
CASES = [
    ("FAILED", DETAILS, UNKNOWN_DETAILS, 3, 3, R.REACHED),
    ("FAILED", DETAILS, UNKNOWN_DETAILS, 1, 1, R.REACHED),  # direct peer
    ("FAILED", DETAILS, UNKNOWN_DETAILS, 2, 3, R.ERROR),  # not from the destination
    ("FAILED", DETAILS, None, None, 0, R.ERROR),
    ("FAILED", NO_ROUTE, TEMP, 2, 3, R.FAILED_AT_TARGET),  # hop before dest, last channel
    ("FAILED", NO_ROUTE, "UNKNOWN_NEXT_PEER", 2, 3, R.FAILED_AT_TARGET),  # dest offline
    ("FAILED", NO_ROUTE, "TEMPORARY_NODE_FAILURE", 3, 3, R.FAILED_AT_TARGET),  # dest says no
    ("FAILED", NO_ROUTE, TEMP, 1, 3, R.FAILED_IN_ROUTE),
    ("FAILED", NO_ROUTE, TEMP, 0, 3, R.FAILED_IN_ROUTE),  # our own first channel
    ("FAILED", NO_ROUTE, TEMP, 0, 1, R.FAILED_AT_TARGET),  # our channel to the target
    ("FAILED", NO_ROUTE, "UNREADABLE_FAILURE", 0, 3, R.FAILED_IN_ROUTE),
    ("FAILED", NO_ROUTE, None, None, 0, R.NO_ROUTE),
    ("FAILED", "FAILURE_REASON_TIMEOUT", TEMP, 2, 3, R.TIMEOUT),
    ("FAILED", "FAILURE_REASON_TIMEOUT", None, None, 0, R.TIMEOUT),
    ("IN_FLIGHT", "FAILURE_REASON_TIMEOUT", None, None, 3, R.TIMEOUT),  # our deadline
    ("IN_FLIGHT", "FAILURE_REASON_NONE", None, None, 0, R.TIMEOUT),
    ("FAILED", "FAILURE_REASON_ERROR", TEMP, 2, 3, R.ERROR),
    ("FAILED", "FAILURE_REASON_INSUFFICIENT_BALANCE", None, None, 0, R.ERROR),
    ("FAILED", "FAILURE_REASON_CANCELED", None, None, 0, R.ERROR),
    ("SUCCEEDED", "FAILURE_REASON_NONE", None, None, 3, R.ERROR),
]


@pytest.mark.parametrize(("status", "reason", "code", "index", "hops", "expected"), CASES)
def test_classify_probe(status: str, reason: str, code: str | None, index: int | None,
                        hops: int, expected: ProbeOutcome) -> None:
    assert classify_probe(status, reason, code, index, hops) is expected


def _hops(*channels: int) -> tuple[RouteHop, ...]:
    return tuple(RouteHop(c, f"{i:066x}", 1000, 0, 100) for i, c in enumerate(channels))


@pytest.mark.parametrize(("index", "expected"), [
    (0, 11), (1, 22), (2, 33), (3, 33), (4, None), (None, None),
])
def test_failing_channel_is_the_reporters_outgoing_channel(index: int | None,
                                                           expected: int | None) -> None:
    assert failing_channel(index, _hops(11, 22, 33)) == expected


STATUS_CASES: list[tuple[grpc.StatusCode, str, type[LightningError]]] = [
    (grpc.StatusCode.UNAVAILABLE, "connection refused", LightningUnavailable),
    (grpc.StatusCode.CANCELLED, "", LightningUnavailable),
    (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", LightningTimeout),
    (grpc.StatusCode.PERMISSION_DENIED, "permission denied", LightningPermissionDenied),
    (grpc.StatusCode.UNAUTHENTICATED, "", LightningPermissionDenied),
    (grpc.StatusCode.NOT_FOUND, "unable to locate invoice", LightningNotFound),
    (grpc.StatusCode.UNKNOWN, "expected 1 macaroon, got 0", LightningPermissionDenied),
    (grpc.StatusCode.UNKNOWN, "permission denied", LightningPermissionDenied),
    (grpc.StatusCode.UNKNOWN, "verification failed: signature mismatch after caveat "
                              "verification", LightningPermissionDenied),
    (grpc.StatusCode.UNKNOWN, "wallet locked, unlock it to enable full RPC access",
     LightningUnavailable),
    (grpc.StatusCode.UNKNOWN, "payment hash must be exactly 32 bytes, is instead 3",
     LightningRejected),
    (grpc.StatusCode.ALREADY_EXISTS, "invoice is already paid", LightningRejected),
    (grpc.StatusCode.INVALID_ARGUMENT, "bad", LightningRejected),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max",
     LightningRejected),
]


@pytest.mark.parametrize(("code", "details", "expected"), STATUS_CASES)
def test_error_for_status(code: grpc.StatusCode, details: str,
                          expected: type[LightningError]) -> None:
    error = error_for_status(code, details)
    assert type(error) is expected
    assert str(error) == (details or code.name)


def _route(*channels: int) -> ln.Route:
    return ln.Route(total_fees_msat=2000, hops=[
        ln.Hop(chan_id=c, pub_key=f"{i + 2:066x}", amt_to_forward_msat=1_000_000, expiry=800)
        for i, c in enumerate(channels)])


def test_probe_result_reads_the_last_attempt() -> None:
    dest = f"{4:066x}"
    payment = ln.Payment(
        payment_hash="00" * 32, status=ln.Payment.FAILED,
        failure_reason=NO_ROUTE,
        htlcs=[
            ln.HTLCAttempt(status=ln.HTLCAttempt.FAILED, route=_route(1, 2, 3), failure=ln.Failure(
                code=ln.Failure.TEMPORARY_CHANNEL_FAILURE, failure_source_index=1)),
            ln.HTLCAttempt(status=ln.HTLCAttempt.FAILED, route=_route(7, 8, 9), failure=ln.Failure(
                code=ln.Failure.UNKNOWN_NEXT_PEER, failure_source_index=2)),
        ])
    result = probe_result(dest, 1000, payment, 12)
    assert result.outcome is ProbeOutcome.FAILED_AT_TARGET
    assert (result.failure_code, result.failure_source_index) == ("UNKNOWN_NEXT_PEER", 2)
    assert result.failing_channel_id == 9
    assert [h.channel_id for h in result.hops] == [7, 8, 9]
    assert (result.attempts, result.fee_msat, result.duration_ms) == (2, 2000, 12)
    # every attempt is kept, not only the last one
    assert [(a.status, a.failure_code, a.failure_source_index, [h.channel_id for h in a.hops])
            for a in result.htlcs] == [
        ("FAILED", TEMP, 1, [1, 2, 3]), ("FAILED", "UNKNOWN_NEXT_PEER", 2, [7, 8, 9])]


def test_probe_result_reached_has_no_failing_channel() -> None:
    payment = ln.Payment(
        payment_hash="00" * 32, status=ln.Payment.FAILED,
        failure_reason=DETAILS,
        htlcs=[ln.HTLCAttempt(status=ln.HTLCAttempt.FAILED, route=_route(5, 6),
                              failure=ln.Failure(code=ln.Failure.INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS,
                                                 failure_source_index=2))])
    result = probe_result(f"{3:066x}", 500, payment, 1)
    assert result.outcome is ProbeOutcome.REACHED
    assert result.failing_channel_id is None


def test_probe_result_without_a_final_payment_is_a_timeout() -> None:
    result = probe_result(f"{3:066x}", 500, None, 30_000)
    assert result.outcome is ProbeOutcome.TIMEOUT
    assert (result.hops, result.attempts) == ((), 0)


def _paid_hops(*channels: int) -> tuple[RouteHop, ...]:
    """A route paying 100k sat, each earlier hop keeping a 1 sat fee: hop i's channel
    carries 100_000 + (n - 1 - i) sat."""
    n = len(channels)
    return tuple(RouteHop(c, f"{i + 2:066x}", 100_000_000 + (n - 2 - i) * 1000 if i < n - 1
                          else 100_000_000, 1000 if i < n - 1 else 0, 800)
                 for i, c in enumerate(channels))


def _seen(attempt: HtlcAttempt) -> list[tuple[int, int, bool]]:
    return [(o.channel_id, o.amount_sat, o.carried) for o in channel_observations(attempt)]


# (status, code, source index) of an attempt over channels 11, 22, 33 -> what it showed
OBSERVATION_CASES = [
    ("SUCCEEDED", None, None, [(11, 100_002, True), (22, 100_001, True), (33, 100_000, True)]),
    ("FAILED", UNKNOWN_DETAILS, 3, [(11, 100_002, True), (22, 100_001, True),
                                    (33, 100_000, True)]),  # the target's last hop carried
    ("FAILED", TEMP, 2, [(11, 100_002, True), (22, 100_001, True), (33, 100_000, False)]),
    ("FAILED", TEMP, 1, [(11, 100_002, True), (22, 100_001, False)]),
    ("FAILED", TEMP, 0, [(11, 100_002, False)]),  # our own channel
    ("FAILED", "CHANNEL_DISABLED", 1, [(11, 100_002, True)]),  # not a liquidity bound
    ("FAILED", "UNKNOWN_NEXT_PEER", 2, [(11, 100_002, True), (22, 100_001, True)]),
    ("FAILED", "UNREADABLE_FAILURE", 1, []),
    ("FAILED", None, None, []),
    ("IN_FLIGHT", None, None, []),
]


@pytest.mark.parametrize(("status", "code", "index", "expected"), OBSERVATION_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in OBSERVATION_CASES])
def test_channel_observations_of_an_attempt(status: str, code: str | None, index: int | None,
                                            expected: list[tuple[int, int, bool]]) -> None:
    assert _seen(HtlcAttempt(_paid_hops(11, 22, 33), status, code, index)) == expected


def test_observations_name_the_node_each_htlc_went_to() -> None:
    seen = channel_observations(HtlcAttempt(_paid_hops(11, 22), "FAILED", TEMP, 1))
    assert seen == [ChannelObservation(11, f"{2:066x}", 100_001, True),
                    ChannelObservation(22, f"{3:066x}", 100_000, False)]


def test_a_result_without_attempts_stands_for_its_last_one() -> None:
    hops = _paid_hops(11, 22)
    result = ProbeResult(destination=f"{3:066x}", amount_sat=100_000,
                         outcome=ProbeOutcome.FAILED_AT_TARGET, failure_code=TEMP,
                         failure_source_index=1, failing_channel_id=22, hops=hops, fee_msat=0,
                         duration_ms=1, attempts=1)
    assert htlc_attempts(result) == (HtlcAttempt(hops, "FAILED", TEMP, 1),)
    assert htlc_attempts(ProbeResult(
        destination=f"{3:066x}", amount_sat=1, outcome=ProbeOutcome.NO_ROUTE, failure_code=None,
        failure_source_index=None, failing_channel_id=None, hops=(), fee_msat=0, duration_ms=1,
        attempts=0)) == ()
