"""Spending caps, checked BEFORE a payment: per request, per rolling hour, per rolling day.

A payment first reserves its most it can cost (invoice amount + the wallet's fee budget);
the reservation counts against the windows at once, so concurrent requests cannot all pass
the check and then overspend together. After the payment the reservation is settled with
what it really cost, or released when the wallet says nothing was paid.

The ledger is kept in memory and, with `ledger_path`, appended to a file (one JSON line per
settled payment) that the next process reads back, so restarting an agent does not reset its
hourly and daily budget.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from satrank.client.errors import SpendingCapExceeded

HOUR_S = 3600.0
DAY_S = 86400.0

# Environment variables read by `SpendingCaps.from_env` (`satrank mcp` uses them).
ENV_PER_REQUEST = "SATRANK_MAX_SAT_PER_REQUEST"
ENV_PER_HOUR = "SATRANK_MAX_SAT_PER_HOUR"
ENV_PER_DAY = "SATRANK_MAX_SAT_PER_DAY"
ENV_LEDGER = "SATRANK_SPEND_LEDGER"


@dataclass(frozen=True)
class Reservation:
    amount_sat: int
    at: float


class SpendingCaps:
    """Caps in sat; None means no cap on that window (at least one must be set)."""

    def __init__(self, *, per_request_sat: int | None = None, per_hour_sat: int | None = None,
                 per_day_sat: int | None = None, ledger_path: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        limits = (per_request_sat, per_hour_sat, per_day_sat)
        if all(limit is None for limit in limits):
            raise ValueError("set at least one spending cap (per request, hour or day)")
        if any(limit is not None and limit < 0 for limit in limits):
            raise ValueError("spending caps must not be negative")
        self.per_request_sat = per_request_sat
        self.per_hour_sat = per_hour_sat
        self.per_day_sat = per_day_sat
        self._clock = clock
        self._path = ledger_path
        self._lock = threading.Lock()  # the sync client pays from its own thread
        self._entries: list[tuple[float, int]] = self._load() if ledger_path else []

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SpendingCaps:
        """Caps from SATRANK_MAX_SAT_PER_REQUEST / _PER_HOUR / _PER_DAY and the optional
        SATRANK_SPEND_LEDGER file; ValueError naming the variable when one is unusable
        or none is set."""
        env = os.environ if env is None else env

        def number(name: str) -> int | None:
            raw = env.get(name, "").strip()
            if not raw:
                return None
            if not raw.isdigit():
                raise ValueError(f"{name} must be a whole number of sat, got {raw!r}")
            return int(raw)

        ledger = env.get(ENV_LEDGER, "").strip()
        try:
            return cls(per_request_sat=number(ENV_PER_REQUEST), per_hour_sat=number(ENV_PER_HOUR),
                       per_day_sat=number(ENV_PER_DAY),
                       ledger_path=Path(ledger) if ledger else None)
        except ValueError as exc:
            if "at least one" in str(exc):
                raise ValueError(f"set at least one of {ENV_PER_REQUEST}, {ENV_PER_HOUR}, "
                                 f"{ENV_PER_DAY}") from None
            raise

    def _load(self) -> list[tuple[float, int]]:
        assert self._path is not None
        try:
            lines = self._path.read_text().splitlines()
        except FileNotFoundError:
            return []
        cutoff = self._clock() - DAY_S
        entries = []
        for line in lines:
            try:
                item = json.loads(line)
                at, sat = float(item["at"]), int(item["sat"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash: the rest still counts
            if at > cutoff:
                entries.append((at, sat))
        return entries

    def spent(self, window_s: float) -> int:
        """Sat settled or reserved in the last `window_s` seconds."""
        cutoff = self._clock() - window_s
        with self._lock:
            return sum(sat for at, sat in self._entries if at > cutoff)

    def room_sat(self) -> int | None:
        """The most one payment may cost now under every cap (None: unbounded)."""
        rooms = [limit for limit in (self.per_request_sat,) if limit is not None]
        for limit, window in ((self.per_hour_sat, HOUR_S), (self.per_day_sat, DAY_S)):
            if limit is not None:
                rooms.append(max(0, limit - self.spent(window)))
        return min(rooms) if rooms else None

    def reserve(self, amount_sat: int) -> Reservation:
        """Count `amount_sat` now, or raise SpendingCapExceeded (and count nothing)."""
        if self.per_request_sat is not None and amount_sat > self.per_request_sat:
            raise SpendingCapExceeded("per-request", amount_sat, self.per_request_sat)
        with self._lock:
            now = self._clock()
            self._entries = [(at, sat) for at, sat in self._entries if at > now - DAY_S]
            for name, limit, window in (("hourly", self.per_hour_sat, HOUR_S),
                                        ("daily", self.per_day_sat, DAY_S)):
                if limit is None:
                    continue
                spent = sum(sat for at, sat in self._entries if at > now - window)
                if spent + amount_sat > limit:
                    raise SpendingCapExceeded(name, amount_sat, limit, spent)
            reservation = Reservation(amount_sat, now)
            self._entries.append((reservation.at, amount_sat))
            return reservation

    def release(self, reservation: Reservation) -> None:
        """Nothing was paid: the reservation no longer counts."""
        with self._lock:
            self._entries.remove((reservation.at, reservation.amount_sat))

    def settle(self, reservation: Reservation, paid_sat: int) -> None:
        """The payment cost `paid_sat` (amount + fee): that is what counts from now on."""
        with self._lock:
            self._entries.remove((reservation.at, reservation.amount_sat))
            self._entries.append((reservation.at, paid_sat))
            if self._path is not None:
                with self._path.open("a") as ledger:
                    ledger.write(json.dumps({"at": reservation.at, "sat": paid_sat}) + "\n")
