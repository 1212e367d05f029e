"""The probe-outcome vocabulary: one enum for lightning/, scoring/, db/ and api/.

A leaf module (it imports nothing from satrank) so that `scoring/` can name outcomes
without depending on `lightning/`. Members are `str`s whose values are the `probes.outcome`
column and the public JSON `outcome` field, so they go into SQL, JSON and metric labels
unchanged.
"""

from __future__ import annotations

import enum


class ProbeOutcome(enum.StrEnum):
    """How a probe payment ended; values match the `probes.outcome` column."""

    REACHED = "reached"  # destination answered INCORRECT_PAYMENT_DETAILS: it could be paid
    FAILED_AT_TARGET = "failed_at_target"  # the last channel, into the destination, failed
    FAILED_IN_ROUTE = "failed_in_route"  # an earlier hop failed: weaker evidence
    NO_ROUTE = "no_route"
    TIMEOUT = "timeout"
    ERROR = "error"
