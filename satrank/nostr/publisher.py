"""The publisher: drains the Postgres outbox to every relay in NOSTR_RELAYS.

`run_publisher` runs as its own asyncio task in the crawler process and never touches the
scoring path: the crawler only inserts outbox rows (`db.nostr_outbox`). Inside it:

- one signer loop signs pending rows in batches (created_at monotonic per subject) and
  keeps the outbox gauges fresh;
- one worker per relay sends due events one at a time, waits for each OK (timeout),
  paces itself (`publish_interval_s` between events), records ok / rejected / failed with
  exponential backoff, and reconnects with backoff when the relay is down.

Nothing is lost: a row is finished only when every configured relay accepted or finally
rejected it, so a relay that is down simply gets the backlog when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from satrank.config import NostrSettings
from satrank.db import nostr_outbox as outbox
from satrank.db.errors import DatabaseError
from satrank.db.pool import connection
from satrank.nostr import metrics
from satrank.nostr.assertions import KIND_PROFILE, profile_content
from satrank.nostr.events import UnsignedEvent, sign_event
from satrank.nostr.identity import profile_of
from satrank.nostr.keys import NostrKey
from satrank.nostr.relay import RelayClient, RelayUnavailable

_log = logging.getLogger(__name__)

SWEEP_EVERY_S = 3600.0


async def run_publisher(
    pool: outbox.Pool, nostr_settings: NostrSettings, *, stop: asyncio.Event
) -> None:
    """Publish until `stop` is set. Returns at once if no key or no relay is configured."""
    if not nostr_settings.publishing or nostr_settings.private_key is None:
        _log.info("nostr publisher disabled: NOSTR_PRIVATE_KEY or NOSTR_RELAYS not set")
        return
    key = NostrKey.parse(nostr_settings.private_key.reveal())
    _log.info("nostr publisher started for %s on %d relay(s)", key.npub,
              len(nostr_settings.relays))
    wakes = {relay: asyncio.Event() for relay in nostr_settings.relays}
    loops: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("signer", partial(_signer_loop, pool, nostr_settings, key, wakes, stop))
    ]
    loops += [
        (relay, partial(_relay_loop, pool, nostr_settings, relay, wakes[relay], stop))
        for relay in nostr_settings.relays
    ]
    tasks = [
        asyncio.create_task(_supervised(name, loop, nostr_settings.poll_interval_s, stop))
        for name, loop in loops
    ]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _supervised(
    name: str, loop: Callable[[], Awaitable[None]], pause_s: float, stop: asyncio.Event
) -> None:
    """Run `loop` until stop; a bug in one round is logged and the loop restarts."""
    while not stop.is_set():
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("nostr publisher %s loop failed; restarting", name)
            await _sleep_unless_stopped(stop, pause_s)


def retry_delay_s(attempts: int, settings: NostrSettings) -> float:
    """Exponential backoff: base, 2·base, 4·base … capped at `retry_max_s`."""
    return float(min(settings.retry_base_s * 2 ** min(attempts, 30), settings.retry_max_s))


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def _wait_for_work(wake: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    stopper = asyncio.create_task(stop.wait())
    waker = asyncio.create_task(wake.wait())
    try:
        await asyncio.wait({stopper, waker}, timeout=seconds,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        waker.cancel()
    wake.clear()


async def _signer_loop(
    pool: outbox.Pool, settings: NostrSettings, key: NostrKey,
    wakes: dict[str, asyncio.Event], stop: asyncio.Event,
) -> None:
    def sign(row: outbox.PendingEvent, created_at: int) -> dict[str, Any]:
        return sign_event(UnsignedEvent(row.kind, created_at, row.tags, row.content), key)

    profile = profile_content(profile_of(settings))
    profile_queued = False
    last_sweep = float("-inf")
    while not stop.is_set():
        try:
            async with connection(pool) as conn:
                if not profile_queued:
                    await outbox.enqueue_event_if_changed(conn, KIND_PROFILE, "", [], profile)
                    profile_queued = True
                if time.monotonic() - last_sweep > SWEEP_EVERY_S:
                    # Rows finished by a relay list change (the crawler's nostr_prune job
                    # deletes finished rows, publishing or not).
                    await outbox.mark_delivered(conn, None, settings.relays)
                    last_sweep = time.monotonic()
                signed = await outbox.sign_pending_events(
                    conn, sign, now_unix=int(time.time()), limit=settings.publish_batch
                )
                lag = await outbox.fetch_outbox_lag(conn)
        except DatabaseError as exc:
            _log.warning("nostr signer: database unavailable (%s)", type(exc).__name__)
            await _sleep_unless_stopped(stop, settings.poll_interval_s)
            continue
        metrics.OUTBOX_DEPTH.set(lag.pending)
        metrics.OUTBOX_OLDEST_AGE.set(lag.oldest_pending_age_s)
        if signed:
            metrics.EVENTS_SIGNED.inc(signed)
            for wake in wakes.values():
                wake.set()
        if signed < settings.publish_batch:
            await _sleep_unless_stopped(stop, settings.poll_interval_s)


async def _relay_loop(
    pool: outbox.Pool, settings: NostrSettings, relay: str, wake: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    client = RelayClient(relay, connect_timeout_s=settings.connect_timeout_s,
                         ok_timeout_s=settings.ok_timeout_s)
    connect_failures = 0
    try:
        while not stop.is_set():
            try:
                async with connection(pool) as conn:
                    due = await outbox.fetch_due_for_relay(
                        conn, relay, limit=settings.publish_batch)
            except DatabaseError as exc:
                _log.warning("nostr %s: database unavailable (%s)", relay, type(exc).__name__)
                await _sleep_unless_stopped(stop, settings.poll_interval_s)
                continue
            if not due:
                await _wait_for_work(wake, stop, settings.poll_interval_s)
                continue
            try:
                await client.connect()
            except RelayUnavailable as exc:
                metrics.RELAY_CONNECT_FAILURES.labels(relay).inc()
                delay = retry_delay_s(connect_failures, settings)
                connect_failures += 1
                _log.warning("nostr %s: %s; retrying in %.1f s", relay, exc, delay)
                await _sleep_unless_stopped(stop, delay)
                continue
            connect_failures = 0
            results = await _publish_batch(client, settings, relay, due, stop)
            try:
                async with connection(pool) as conn:
                    await outbox.record_relay_results(conn, relay, results)
                    await outbox.mark_delivered(
                        conn, [r.outbox_id for r in results], settings.relays)
            except DatabaseError as exc:
                # Unrecorded sends are repeated later; relays answer `duplicate:` = ok.
                _log.warning("nostr %s: could not record results (%s)", relay,
                             type(exc).__name__)
    finally:
        await client.close()


async def _publish_batch(
    client: RelayClient, settings: NostrSettings, relay: str,
    due: list[outbox.DueEvent], stop: asyncio.Event,
) -> list[outbox.RelayResult]:
    results: list[outbox.RelayResult] = []
    for item in due:
        if stop.is_set():
            break
        try:
            answer = await client.publish(item.event)
        except RelayUnavailable as exc:
            metrics.RELAY_CONNECT_FAILURES.labels(relay).inc()
            _log.warning("nostr %s: %s", relay, exc)
            results.append(outbox.RelayResult(
                item.outbox_id, "failed", str(exc), retry_delay_s(item.attempts, settings)))
            break  # the rest of the batch waits for the reconnect
        if answer.outcome == "ok":
            metrics.EVENTS_PUBLISHED.labels(relay).inc()
            metrics.LAST_PUBLISH.labels(relay).set(time.time())
            results.append(outbox.RelayResult(item.outbox_id, "ok", answer.message))
        else:
            metrics.EVENTS_FAILED.labels(relay, answer.outcome).inc()
            _log.info("nostr %s: event %s %s: %.200s", relay, item.event.get("id"),
                      answer.outcome, answer.message)
            results.append(outbox.RelayResult(
                item.outbox_id, answer.outcome, answer.message,
                retry_delay_s(item.attempts, settings)))
        await _sleep_unless_stopped(stop, settings.publish_interval_s)
    return results
