"""Log hygiene for every SatRank process: one redacting filter on every handler.

Operators ship these logs to third parties (journald forwarders, hosted log search), so a
log line must never carry a credential. `install_redaction(settings)` puts a
`RedactingFilter` on every handler of the root logger; records from every logger
(SatRank's, uvicorn's, asyncpg's, grpc's) pass through a handler, so all are covered.

What is removed: the exact values of the secrets the process knows (L402 macaroon
secrets, operator token, api key, Nostr key, the database password, LND macaroon files),
plus anything shaped like a credential whatever its value: `L402`/`LSAT` authorization
values, serialized macaroons (base64 V2 starts with "AgE", hex with "0201"), values after
words such as `preimage=` or `secret:`, `nsec1…` keys and passwords inside URLs.
The filter rewrites the record in place (message, arguments, traceback text) and never
drops it: an operator still sees that something happened.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from satrank.config import Secret, Settings

REDACTED = "[redacted]"
# Shorter known values would also match innocent text; every real secret is longer.
MIN_KNOWN_SECRET_LEN = 8

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: L402 <macaroons>:<preimage> (and the old LSAT scheme).
    (re.compile(r"(?i)\b(L402|LSAT)\s+[^\s\"',;]+"), r"\1 " + REDACTED),
    # A serialized macaroon, base64 (V2 binary begins 0x02 0x01) or hex.
    (re.compile(r"AgE[A-Za-z0-9+/_-]{20,}={0,2}"), REDACTED),
    (re.compile(r"\b0201[0-9a-fA-F]{40,}\b"), REDACTED),
    (re.compile(r"\bnsec1[02-9ac-hj-np-z]{20,}\b"), REDACTED),
    # key=value, key: value, "key": "value" for credential-looking keys.
    (
        re.compile(
            r"(?i)\b((?:pre_?image|secret|password|passwd|macaroon|api[_-]?key|"
            r"operator[_-]?token|private[_-]?key|authorization)[A-Za-z0-9_-]*"
            r"[\"']?\s*[:=]\s*[\"']?)(?!(?:L402|LSAT)\s)([^\s\"',;}&]+)"
        ),
        r"\1" + REDACTED,
    ),
    # postgresql://user:password@host
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1" + REDACTED + "@"),
)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` with known secret values and credential-shaped substrings replaced."""
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# A record carrying this attribute (true) was built only from values that cannot hold a
# secret, or already redacted (the access log: api/middleware/access_log.py); the filter
# passes it as it is, so the per-request line costs no regex scan.
PRE_REDACTED = "satrank_pre_redacted"


class RedactingFilter(logging.Filter):
    """Rewrites each record so its formatted text carries no secret; never drops a record."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is removed whole.
        self.known = tuple(
            sorted({s for s in known_secrets if len(s) >= MIN_KNOWN_SECRET_LEN}, key=len,
                   reverse=True)
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, PRE_REDACTED, False) and not record.exc_info:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep what we can, safely
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message, self.known)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.known)
        return True


def known_secret_values(settings: Settings) -> list[str]:
    """Every secret value this process holds, in the forms it may appear in text."""
    secrets: list[Secret | None] = [
        settings.l402.macaroon_secret,
        settings.l402.previous_macaroon_secret,
        settings.l402.operator_bypass_secret,
        settings.l402.api_key,
        settings.nostr.private_key,
    ]
    values = [s.reveal() for s in secrets if s is not None and s.reveal()]
    if settings.database.url is not None:
        password = _url_password(settings.database.url.reveal())
        if password:
            values.append(password)
    for path in (
        settings.lnd.invoice_macaroon_path,
        settings.lnd.readonly_macaroon_path,
        settings.lnd.pay_macaroon_path,
    ):
        values.extend(_macaroon_forms(path))
    return values


def redactor(settings: Settings) -> Callable[[str], str]:
    """`redact` with this process's known secrets, for text logged as pre-redacted."""
    known = RedactingFilter(known_secret_values(settings)).known
    return lambda text: redact(text, known)


def install_redaction(settings: Settings, logger: logging.Logger | None = None) -> None:
    """Put one `RedactingFilter` on every handler of `logger` (default: the root logger)."""
    target = logger if logger is not None else logging.getLogger()
    redactor = RedactingFilter(known_secret_values(settings))
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)


def _url_password(url: str) -> str | None:
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:([^@/\s]+)@", url)
    return match.group(1) if match else None


def _macaroon_forms(path: Path | None) -> list[str]:
    """Hex and base64 of an LND macaroon file, if readable (it may not exist yet)."""
    if path is None:
        return []
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    return [raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]


# Every SatRank process's line: `satrank` (cli.main) and its spawned api workers.
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class SecondCachedFormatter(logging.Formatter):
    """`logging.Formatter` whose default timestamp text is made once per second, not once
    per record (`time.strftime` was a fifth of an access line's cost); same text."""

    def __init__(self) -> None:
        super().__init__(LINE_FORMAT)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime(self.default_time_format,
                                              self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"  # as default_msec_format


def configure_logging(level: int | str) -> None:
    """The root logger's handler on stderr with `LINE_FORMAT` (redaction is installed
    separately: `install_redaction`)."""
    logging.basicConfig(level=level, format=LINE_FORMAT)
    for handler in logging.getLogger().handlers:
        plain = handler.formatter
        if type(plain) is logging.Formatter and plain._fmt == LINE_FORMAT:  # basicConfig's
            handler.setFormatter(SecondCachedFormatter())


class TickBufferedStream:
    """The text stream of a log handler in an asyncio server: the lines written during one
    event-loop iteration leave in one write at its end (under load, one syscall for many
    access lines instead of one each); the order of lines is kept and none is dropped.
    Outside a running loop (other threads, start-up, exit) it writes through at once."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._pending: list[str] = []
        self._scheduled = False
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            loop = _running_loop()
            if loop is None:
                self._drain()
                self.stream.write(text)
                return len(text)
            self._pending.append(text)
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._end_of_tick)
        return len(text)

    def flush(self) -> None:
        if _running_loop() is not None:
            return  # the end of this loop iteration writes and flushes
        with self._lock:
            self._drain()
        self.stream.flush()

    def _end_of_tick(self) -> None:
        with self._lock:
            self._scheduled = False
            self._drain()
        self.stream.flush()

    def _drain(self) -> None:
        if self._pending:
            self.stream.write("".join(self._pending))
            self._pending.clear()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def batch_writes_per_tick(logger: logging.Logger | None = None) -> None:
    """Give every stream handler of `logger` (default: root) a `TickBufferedStream`."""
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler.stream, TickBufferedStream):
            handler.setStream(TickBufferedStream(handler.stream))
