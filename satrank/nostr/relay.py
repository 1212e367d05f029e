"""One websocket to one relay: send an EVENT, wait for its OK, classify the answer.

Events go one at a time: relays differ in how they answer bad events (nostr-relay sends an
OK with an *empty* id, nostr.md §11), so while one event is in flight any OK carrying its
id or an empty id is its answer. Anything unexpected (timeout, closed socket) drops the
connection; the next publish reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidURI, WebSocketException

_log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20
# OK false with these prefixes is worth retrying later; other refusals are final.
RETRYABLE_PREFIXES = ("rate-limited:", "error:")

Outcome = Literal["ok", "rejected", "failed"]


class RelayUnavailable(Exception):
    """The relay could not be reached or the connection broke."""


@dataclass(frozen=True)
class PublishOutcome:
    outcome: Outcome
    message: str


def classify_ok(accepted: bool, message: str) -> Outcome:
    """NIP-01 OK: true is success; `duplicate:` is success whatever the boolean says."""
    if accepted or message.startswith("duplicate:"):
        return "ok"
    if message.startswith(RETRYABLE_PREFIXES):
        return "failed"
    return "rejected"


class RelayClient:
    """A lazily (re)connected websocket to `url` with timeouts on connect and on every OK."""

    def __init__(self, url: str, *, connect_timeout_s: float, ok_timeout_s: float) -> None:
        self.url = url
        self._connect_timeout_s = connect_timeout_s
        self._ok_timeout_s = ok_timeout_s
        self._ws: ClientConnection | None = None

    async def connect(self) -> None:
        if self._ws is not None:
            return
        try:
            self._ws = await connect(
                self.url,
                open_timeout=self._connect_timeout_s,
                close_timeout=2,
                max_size=MAX_MESSAGE_BYTES,
                proxy=None,
                compression=None,
            )
        except (OSError, TimeoutError, WebSocketException, InvalidURI) as exc:
            raise RelayUnavailable(f"connect failed: {type(exc).__name__}") from exc

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await ws.close()
            except (OSError, WebSocketException):
                pass

    async def publish(self, event: dict[str, Any]) -> PublishOutcome:
        """Send one event and wait for its OK; a timeout is a retryable failure.

        Raises `RelayUnavailable` when there is no usable connection (nothing was decided
        about the event).
        """
        await self.connect()
        assert self._ws is not None
        ws = self._ws
        try:
            await ws.send(json.dumps(["EVENT", event], separators=(",", ":"), ensure_ascii=False))
            async with asyncio.timeout(self._ok_timeout_s):
                while True:
                    answer = _parse_ok(await ws.recv(), event["id"])
                    if answer is not None:
                        return answer
        except TimeoutError:
            await self.close()  # a late OK must not be read as the next event's answer
            return PublishOutcome("failed", "timeout waiting for OK")
        except (OSError, WebSocketException) as exc:
            await self.close()
            raise RelayUnavailable(f"connection lost: {type(exc).__name__}") from exc


def _parse_ok(raw: str | bytes, event_id: str) -> PublishOutcome | None:
    """The answer for `event_id` if `raw` is its OK; None for every other message."""
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, list) or not message:
        return None
    if message[0] == "NOTICE" and len(message) > 1:
        _log.debug("relay notice: %.200s", message[1])
        return None
    if message[0] != "OK" or len(message) < 3 or message[1] not in (event_id, ""):
        return None  # AUTH challenges, stray EVENT/EOSE and OKs for other ids are ignored
    text = str(message[3]) if len(message) > 3 else ""
    return PublishOutcome(classify_ok(message[2] is True, text), text)
