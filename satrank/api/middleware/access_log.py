"""One structured log line per HTTP request (middleware/edge.py writes it).

    request method=GET route=/api/profile/{id} status=402 duration_ms=3.1 request_id=ab12…

The route is the template, never the concrete path, so node ids and query strings (which
may carry anything a client typed) stay out of the log. No header is logged. The client
address is added only when the operator sets LOG_CLIENT_IPS=true.

The line is cheap: it is built from values that cannot carry a secret (method, route
template, status, duration, our own request ids) and only a client-chosen request id is
redacted, so the record is marked pre-redacted and the log filter does not scan it again
(satrank/logs.py); the record is made directly (no caller lookup: the logger is fixed)
and without `LogRecord.__init__`'s per-record path, thread and process lookups (same
attributes, constants of this module and process).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from starlette.types import Scope

from satrank.api.middleware.request_id import CLIENT_SENT_ID
from satrank.api.middleware.route_match import route_template
from satrank.logs import PRE_REDACTED, redact

_log = logging.getLogger("satrank.access")
UNMATCHED_ROUTE = "-"
_FILENAME = os.path.basename(__file__)
_MODULE = os.path.splitext(_FILENAME)[0]
_probe = logging.makeLogRecord({})
_LOGGING_STARTED = _probe.created - _probe.relativeCreated / 1000  # relativeCreated's zero


class _AccessRecord(logging.LogRecord):
    """A `LogRecord` of the access logger with every standard attribute set, at a third of
    the generic constructor's cost (measured: bench/RESULTS.md)."""

    def __init__(self, msg: str, args: tuple[object, ...], process: tuple[int, str]) -> None:
        created = time.time()
        self.__dict__.update(
            name=_log.name, msg=msg, args=args, levelname="INFO", levelno=logging.INFO,
            pathname=__file__, filename=_FILENAME, module=_MODULE, exc_info=None,
            exc_text=None, stack_info=None, lineno=0, funcName=None, created=created,
            msecs=int((created - int(created)) * 1000) + 0.0,
            relativeCreated=(created - _LOGGING_STARTED) * 1000,
            thread=threading.get_ident(), threadName=threading.current_thread().name,
            process=process[0], processName=process[1], taskName=None)
        self.__dict__[PRE_REDACTED] = True


def redact_shapes(text: str) -> str:
    """Credential-shaped substrings only (the app passes one that knows its secrets)."""
    return redact(text)


class AccessLog:
    """Writes the access line of each answered request (middleware/edge.py calls `log`)."""

    def __init__(
        self,
        *,
        log_client_ips: bool = False,
        client_ip_of: Callable[[Scope], str] | None = None,
        redact: Callable[[str], str] = redact_shapes,
    ) -> None:
        self.log_client_ips = log_client_ips
        self.client_ip_of = client_ip_of or _peer_address
        self.redact = redact
        # as LogRecord finds them; fixed for a process (each api worker builds its own app)
        multiprocessing = sys.modules.get("multiprocessing")
        self._process = (os.getpid(), "MainProcess" if multiprocessing is None
                         else multiprocessing.current_process().name)

    def log(self, scope: Scope, status: int, elapsed_s: float) -> None:
        if not _log.isEnabledFor(logging.INFO):
            return
        state = scope.get("state", {})
        request_id = state.get("request_id", "-")
        if state.get(CLIENT_SENT_ID):
            request_id = self.redact(request_id)
        line = "request method=%s route=%s status=%d duration_ms=%.1f request_id=%s"
        args: tuple[object, ...] = (
            scope["method"], route_template(scope) or UNMATCHED_ROUTE, status,
            elapsed_s * 1000, request_id,
        )
        if self.log_client_ips:
            line += " client=%s"
            args += (self.client_ip_of(scope),)
        _log.handle(_AccessRecord(line, args, self._process))


def _peer_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"
