"""Pure probe arithmetic: how a SendPaymentV2 probe ended, and which channel failed.

No I/O and no protobuf: inputs are lnd's enum *names* and plain numbers, so the rules can
be tested table-driven and reused by anything that reads lnd payments.

lnd's `failure_source_index` counts route positions: 0 is the sender (us), i is
`route.hops[i-1]`, and `len(hops)` is the destination. A node at position i reports about
its outgoing channel, which is `hops[i].chan_id` (the channel leading into position i+1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from satrank.lightning.backend import HtlcAttempt, ProbeResult, RouteHop
from satrank.outcomes import ProbeOutcome

REACHED_CODE = "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"
REACHED_REASON = "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
# The failure could not be decrypted: lnd does not know which hop sent it.
UNATTRIBUTABLE_CODES = frozenset({"UNREADABLE_FAILURE"})
# Failures that say the channel lacked the liquidity for the amount. The others a hop can
# report about its outgoing channel (UNKNOWN_NEXT_PEER, CHANNEL_DISABLED, FEE_INSUFFICIENT,
# AMOUNT_BELOW_MINIMUM, ...) hold at any amount: they say nothing of liquidity.
LIQUIDITY_FAILURE_CODES = frozenset({"TEMPORARY_CHANNEL_FAILURE"})


def classify_probe(status: str, failure_reason: str, last_htlc_failure_code: str | None,
                   failure_source_index: int | None, hop_count: int) -> ProbeOutcome:
    """Classify a probe from the final Payment of its stream.

    `status` is a `Payment.PaymentStatus` name; anything but FAILED/SUCCEEDED means we
    stopped waiting before lnd finished (our deadline), i.e. TIMEOUT. `failure_reason` is a
    `PaymentFailureReason` name; `last_htlc_failure_code` / `failure_source_index` come from
    the last HTLC attempt's `Failure` (None when no attempt failed with one) and `hop_count`
    is the length of that attempt's route.

    lnd ends most failed probes with FAILURE_REASON_NO_ROUTE after its attempts ran out, so
    when an attempt carries a located failure, that failure decides between
    FAILED_AT_TARGET (the destination, or the hop just before it about the last channel)
    and FAILED_IN_ROUTE (an earlier hop); NO_ROUTE is left for "no attempt was made".
    """
    if status == "SUCCEEDED":
        return ProbeOutcome.ERROR  # a random hash cannot settle; lnd treats this as an error
    if status != "FAILED":
        return ProbeOutcome.TIMEOUT
    if failure_reason == "FAILURE_REASON_TIMEOUT":
        return ProbeOutcome.TIMEOUT
    located = (last_htlc_failure_code is not None and failure_source_index is not None
               and hop_count > 0 and last_htlc_failure_code not in UNATTRIBUTABLE_CODES)
    if failure_reason == REACHED_REASON:
        if (located and last_htlc_failure_code == REACHED_CODE
                and failure_source_index == hop_count):
            return ProbeOutcome.REACHED
        return ProbeOutcome.ERROR  # lnd only gives this reason for the final hop's answer
    if failure_reason not in ("FAILURE_REASON_NO_ROUTE", "FAILURE_REASON_NONE"):
        # ERROR, INSUFFICIENT_BALANCE (our own liquidity), CANCELED: says nothing of the target
        return ProbeOutcome.ERROR
    if last_htlc_failure_code in UNATTRIBUTABLE_CODES:
        return ProbeOutcome.FAILED_IN_ROUTE
    if not located:
        return ProbeOutcome.NO_ROUTE
    assert failure_source_index is not None
    if failure_source_index >= hop_count - 1:
        return ProbeOutcome.FAILED_AT_TARGET
    return ProbeOutcome.FAILED_IN_ROUTE


def failing_channel(failure_source_index: int | None, hops: Sequence[RouteHop]) -> int | None:
    """The channel a located failure is about: the reporter's outgoing channel.

    A failure from the destination itself (index == len(hops)) is about the channel it was
    reached through, the last hop's channel.
    """
    if failure_source_index is None or not hops or failure_source_index > len(hops):
        return None
    return hops[min(failure_source_index, len(hops) - 1)].channel_id


@dataclass(frozen=True)
class ChannelObservation:
    """What one HTLC attempt showed of one channel direction."""

    channel_id: int
    to_pubkey: str  # the node the HTLC went to over the channel: names the direction
    amount_sat: int  # the HTLC's amount on this channel (the payment plus later hops' fees)
    carried: bool  # False: the channel could not carry `amount_sat` (liquidity)


def htlc_attempts(result: ProbeResult) -> tuple[HtlcAttempt, ...]:
    """Every attempt of a probe; a result without them stands for its last attempt."""
    if result.htlcs:
        return result.htlcs
    if not result.hops:
        return ()
    status = "SUCCEEDED" if result.outcome is ProbeOutcome.REACHED and \
        result.failure_code is None else "FAILED"
    return (HtlcAttempt(result.hops, status, result.failure_code, result.failure_source_index),)


def channel_observations(attempt: HtlcAttempt) -> list[ChannelObservation]:
    """The channel directions an attempt showed to carry or not to carry its amount.

    A settled attempt crossed every channel. A failure from position i (lnd's
    `failure_source_index`) means the HTLC reached position i: the channels of hops 0..i-1
    carried it (all of them when the destination answered); a liquidity failure also says
    the channel of hop i could not carry its amount. An unreadable failure, an attempt
    still in flight and non-liquidity failures of hop i's channel add nothing about that
    channel (a disabled or unknown channel is not a liquidity bound).
    """
    hops = attempt.hops
    if attempt.status == "SUCCEEDED":
        reached = len(hops)
    elif (attempt.failure_code is None or attempt.failure_source_index is None
          or attempt.failure_code in UNATTRIBUTABLE_CODES):
        return []
    else:
        reached = min(attempt.failure_source_index, len(hops))
    seen = [ChannelObservation(h.channel_id, h.pubkey, _hop_amount_sat(h), True)
            for h in hops[:reached]]
    if reached < len(hops) and attempt.status != "SUCCEEDED" \
            and attempt.failure_code in LIQUIDITY_FAILURE_CODES:
        h = hops[reached]
        seen.append(ChannelObservation(h.channel_id, h.pubkey, _hop_amount_sat(h), False))
    return seen


def _hop_amount_sat(hop: RouteHop) -> int:
    """The HTLC on a hop's channel: what the hop forwards plus the fee it keeps (lnd's
    Hop.fee_msat); at least 1 sat, so a bound is never 0 (0 means "no knowledge")."""
    return max(1, (hop.amt_to_forward_msat + hop.fee_msat) // 1000)
