"""Integration: the real `satrank serve` logs one line per request and never a secret;
the real `satrank crawl` against simnet never logs one either.

The process gets known secrets through its environment; requests carry them (and an
L402 credential, a preimage, a spoofable client address) in headers, paths and query
strings; the captured stderr must show the request lines and none of those values.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from satrank.config import Settings
from satrank.logs import REDACTED, RedactingFilter, install_redaction, redact
from tests.cli import satrank_env, start_satrank
from tests.ports import free_port
from tests.simnet_fixture import SimnetHandle

_RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class Secrets:
    macaroon_secret: str
    operator_token: str
    api_key: str
    nostr_key: str
    db_password: str
    lnd_macaroon: bytes
    preimage: str
    credential_macaroon: str

    def forbidden(self) -> list[str]:
        """Every string that must never appear in a log."""
        return [
            self.macaroon_secret, self.operator_token, self.api_key, self.nostr_key,
            self.db_password, self.lnd_macaroon.hex(), self.preimage,
            self.credential_macaroon, "203.0.113.9",
        ]


def _known_secrets() -> Secrets:
    return Secrets(
        macaroon_secret=secrets.token_hex(32),
        operator_token="op-" + secrets.token_hex(16),
        api_key="key-" + secrets.token_hex(16),
        nostr_key=secrets.token_hex(32),
        db_password="pw" + secrets.token_hex(8),
        lnd_macaroon=bytes.fromhex("0201036c6e64") + secrets.token_bytes(60),
        preimage=secrets.token_hex(32),
        credential_macaroon="AgEHc2F0cmFuaw" + secrets.token_urlsafe(48),
    )


def _with_password(dsn: str, password: str) -> str:
    # The embedded server trusts its socket, so a password in the URL is accepted unused.
    return dsn.replace("postgresql://postgres:@", f"postgresql://postgres:{password}@", 1)


@dataclass
class RunningApi:
    base_url: str
    process: subprocess.Popen[str]
    head: list[str]

    def stop_and_read_logs(self) -> str:
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=30)
        return "".join(self.head) + err


@pytest.fixture
def api_with_secrets(tmp_path: Path, db_dsn: str) -> Iterator[tuple[RunningApi, Secrets]]:
    known = _known_secrets()
    lnd_macaroon = tmp_path / "invoice.macaroon"
    lnd_macaroon.write_bytes(known.lnd_macaroon)
    env = satrank_env(
        tmp_path / "data",
        DATABASE_URL=_with_password(db_dsn, known.db_password),
        PORT="0",
        L402_MACAROON_SECRET=known.macaroon_secret,
        OPERATOR_BYPASS_SECRET=known.operator_token,
        API_KEY=known.api_key,
        NOSTR_PRIVATE_KEY=known.nostr_key,
        LND_INVOICE_MACAROON_PATH=str(lnd_macaroon),
        LOG_LEVEL="DEBUG",
    )
    process = start_satrank("serve", env=env)
    head: list[str] = []
    assert process.stderr is not None
    for line in process.stderr:
        head.append(line)
        found = _RUNNING.search(line)
        if found:
            break
    else:
        process.wait(timeout=10)
        pytest.fail("satrank serve did not start:\n" + "".join(head))
    api = RunningApi(found.group(1), process, head)
    try:
        yield api, known
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_request_lines_carry_no_secret_and_no_client_ip(
    api_with_secrets: tuple[RunningApi, Secrets],
) -> None:
    api, known = api_with_secrets
    credential = f"L402 {known.credential_macaroon}:{known.preimage}"
    headers = {
        "Authorization": credential,
        "X-Operator-Token": known.operator_token,
        "X-API-Key": known.api_key,
        "X-Forwarded-For": "203.0.113.9",
        "X-Request-Id": "trace-1",
    }
    with httpx.Client(base_url=api.base_url, timeout=10) as client:
        assert client.get("/api/health", headers=headers).status_code == 200
        missing = client.get(
            f"/api/nothing/{known.preimage}",
            params={"preimage": known.preimage, "secret": known.macaroon_secret},
            headers=headers,
        )
        assert missing.status_code == 404
        assert client.post("/api/health", headers=headers).status_code == 405
    logs = api.stop_and_read_logs()

    assert re.search(
        r"request method=GET route=/api/health status=200 duration_ms=\S+ request_id=trace-1",
        logs,
    ), logs
    assert "request method=GET route=- status=404" in logs
    assert "request method=POST route=/api/health status=405" in logs
    leaked = [value for value in known.forbidden() if value in logs]
    assert leaked == [], logs


def test_request_ids_chosen_by_clients_are_redacted_in_request_lines(
    api_with_secrets: tuple[RunningApi, Secrets],
) -> None:
    """The request line skips the log filter's scan (it is pre-redacted), so a client that
    sends a secret or a credential as its request id must still not get it logged."""
    api, known = api_with_secrets
    shaped = "AgEHc2F0cmFuaw" + secrets.token_urlsafe(24)
    with httpx.Client(base_url=api.base_url, timeout=10) as client:
        for sent in (known.operator_token, known.api_key, shaped):
            answer = client.get("/api/health", headers={"X-Request-Id": sent})
            assert answer.headers["x-request-id"] == sent  # echoed as before
        ours = client.get("/api/health").headers["x-request-id"]
    logs = api.stop_and_read_logs()
    assert re.fullmatch(r"[0-9a-f]{16}", ours)
    assert f"request_id={ours}" in logs
    assert logs.count(f"request_id={REDACTED}") == 3, logs
    leaked = [v for v in (known.operator_token, known.api_key, shaped) if v in logs]
    assert leaked == [], logs


_ACCESS_SCOPE = {"type": "http", "method": "GET", "path": "/x", "headers": [],
                 "state": {"request_id": "0123456789abcdef"}}


@contextmanager
def access_records(log_filter: logging.Filter | None = None
                   ) -> Iterator[list[logging.LogRecord]]:
    """The records the access logger hands its handlers inside the block (at INFO)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("satrank.access")
    handler = Keep()
    if log_filter is not None:
        handler.addFilter(log_filter)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_request_lines_pass_the_filter_without_a_rescan() -> None:
    """One access line per request, formatted once by the handler: the filter leaves the
    pre-redacted record as it is (msg and args), while any other record is rewritten."""
    from satrank.api.middleware.access_log import AccessLog

    with access_records(RedactingFilter(["a-known-secret-value"])) as records:
        AccessLog().log(_ACCESS_SCOPE, 204, 0.0031)
        logging.getLogger("satrank.access").info("other %s", "a-known-secret-value")
    line, other = records
    assert line.args is not None and line.getMessage().startswith(
        "request method=GET route=- status=204 duration_ms=")
    assert line.getMessage().endswith(" request_id=0123456789abcdef")
    assert other.args is None and other.getMessage() == f"other {REDACTED}"


def test_access_records_carry_every_attribute_a_formatter_may_ask_for() -> None:
    """The access line's lean record has what `LogRecord` sets, with the same values where
    they do not depend on the moment: an operator's format string keeps working."""
    from satrank.api.middleware.access_log import AccessLog

    with access_records() as records:
        AccessLog().log(_ACCESS_SCOPE, 200, 0.002)
    generic = logging.getLogger("satrank.access").makeRecord(
        "satrank.access", logging.INFO, "/p/access_log.py", 0, "m", (), None)
    (line,) = records
    assert set(generic.__dict__) <= set(line.__dict__)
    for name in ("name", "levelname", "levelno", "thread", "threadName", "process",
                 "processName", "exc_info", "exc_text", "stack_info"):
        assert getattr(line, name) == getattr(generic, name), name
    assert (line.filename, line.module) == ("access_log.py", "access_log")
    assert abs(line.created - generic.created) < 60
    assert abs(line.relativeCreated - generic.relativeCreated) < 60_000
    assert line.msecs == int((line.created - int(line.created)) * 1000)
    every = ("%(asctime)s %(created)f %(msecs)d %(relativeCreated)d %(levelname)s %(name)s "
             "%(pathname)s %(filename)s %(module)s %(lineno)d %(funcName)s %(process)d "
             "%(processName)s %(thread)d %(threadName)s %(message)s")
    assert logging.Formatter(every).format(line).endswith("request_id=0123456789abcdef")


def test_the_cached_second_formats_times_as_logging_does() -> None:
    from satrank.logs import LINE_FORMAT, SecondCachedFormatter

    cached, plain = SecondCachedFormatter(), logging.Formatter(LINE_FORMAT)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.0005, 1_700_000_001.5,
                    1_700_000_000.25, 1_765_000_000.123):
        record = logging.makeLogRecord({"msg": "m %s", "args": ("x",), "name": "n",
                                        "levelname": "INFO"})
        record.created = created
        record.msecs = int((created - int(created)) * 1000) + 0.0
        assert cached.format(record) == plain.format(record)


def test_the_filter_redacts_known_values_and_credential_shapes() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("satrank.test_logs")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    known = _known_secrets()
    settings = Settings.from_environ({
        "L402_MACAROON_SECRET": known.macaroon_secret,
        "API_KEY": known.api_key,
        "DATABASE_URL": f"postgresql://satrank:{known.db_password}@db.internal/satrank",
    })
    try:
        install_redaction(settings, logger)
        logger.warning("secret %s and key %s", known.macaroon_secret, known.api_key)
        logger.warning("header Authorization: LSAT %s:%s", known.credential_macaroon,
                       known.preimage)
        logger.warning("settled preimage=%s", known.preimage)
        logger.warning("connecting to %s", settings.database.url.reveal()  # type: ignore[union-attr]
                       if settings.database.url else "")
        try:
            raise RuntimeError(f"boom {known.api_key}")
        except RuntimeError:
            logger.exception("failed with nsec1%s", "q" * 58)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert text.count(REDACTED) >= 7, text
    assert "boom" in text and "settled preimage=" in text and "db.internal" in text
    leaked = [v for v in known.forbidden() if v in text]
    assert leaked == [] and "nsec1qqqq" not in text, text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Authorization: L402 AgEabc:00ff", f"Authorization: L402 {REDACTED}"),
        ("lsat abc:def", f"lsat {REDACTED}"),
        ('{"api_key": "abcdef"}', f'{{"api_key": "{REDACTED}"}}'),
        ("x-operator-token=abcdef", f"x-operator-token={REDACTED}"),
        ("postgres://u:pw@h/db", f"postgres://u:{REDACTED}@h/db"),
        ("node 02abc rank=42", "node 02abc rank=42"),
    ],
    ids=["l402", "lsat-lowercase", "json-key", "header-kv", "url-password", "harmless"],
)
def test_redact_shapes(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_short_known_values_are_not_used_as_patterns() -> None:
    assert RedactingFilter(["abc", "longer-secret"]).known == ("longer-secret",)


def test_crawler_logs_carry_no_secret(tmp_path: Path, db_dsn: str, simnet: SimnetHandle) -> None:
    """The real `satrank crawl` (sync, scoring, probes, the Nostr publisher failing to reach
    its relay) at DEBUG with known secrets: its whole output holds none of them."""
    known = _known_secrets()
    oracle = simnet.oracle_dir
    macaroons = [(oracle / f"{role}.macaroon").read_bytes() for role in ("readonly", "pay")]
    metrics_port, dead_relay_port = free_port(), free_port()
    env = satrank_env(
        tmp_path / "data",
        DATABASE_URL=_with_password(db_dsn, known.db_password),
        L402_MACAROON_SECRET=known.macaroon_secret,
        OPERATOR_BYPASS_SECRET=known.operator_token,
        API_KEY=known.api_key,
        NOSTR_PRIVATE_KEY=known.nostr_key,
        NOSTR_RELAYS=f"ws://127.0.0.1:{dead_relay_port}",
        NOSTR_CONNECT_TIMEOUT_S="1", NOSTR_RETRY_BASE_S="0.2",
        LND_GRPC_HOST=simnet.oracle_host, LND_TLS_CERT_PATH=str(oracle / "tls.cert"),
        LND_READONLY_MACAROON_PATH=str(oracle / "readonly.macaroon"),
        LND_PAY_MACAROON_PATH=str(oracle / "pay.macaroon"),
        CRAWLER_METRICS_PORT=str(metrics_port),
        CRAWL_PROBES_PER_ROUND="10", CRAWL_PROBE_INTERVAL_S="1",
        LOG_LEVEL="DEBUG",
    )
    process = start_satrank("crawl", env=env)
    try:
        probed = re.compile(r'^satrank_crawler_last_success_timestamp_seconds\{phase="probes"\}',
                            re.M)
        with httpx.Client(timeout=5) as client:
            for _ in range(600):
                assert process.poll() is None, process.communicate()[1][-3000:]
                try:
                    text = client.get(f"http://127.0.0.1:{metrics_port}/metrics").text
                except httpx.TransportError:
                    text = ""
                if probed.search(text):
                    break
                time.sleep(0.2)
            else:
                pytest.fail("the crawler never finished a probe round")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    logs = out + err
    for expected in ("crawler is the leader", "probe round", "nostr publisher started",
                     "connect failed"):  # the paths that log what they handle were taken
        assert expected in logs, logs[-3000:]
    forbidden = [*known.forbidden(), *(m.hex() for m in macaroons),
                 *(base64.b64encode(m).decode() for m in macaroons)]
    leaked = [value for value in forbidden if value in logs]
    assert leaked == [], logs[-5000:]


def test_lines_logged_in_one_loop_iteration_leave_in_one_write() -> None:
    from satrank.logs import TickBufferedStream

    class Counting(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            Counting.writes += 1
            return super().write(text)

    sink = Counting()
    logger = logging.getLogger("satrank.test_tick")
    logger.propagate = False
    handler = logging.StreamHandler(TickBufferedStream(sink))
    logger.addHandler(handler)

    async def serve_burst() -> tuple[str, int]:
        for i in range(50):
            logger.warning("line %d", i)
        seen_inside = (sink.getvalue(), Counting.writes)
        await asyncio.sleep(0)  # the loop iteration ends
        return seen_inside

    try:
        inside, writes_inside = asyncio.run(serve_burst())
        after_loop = Counting.writes
        logger.warning("outside the loop")  # written through at once
    finally:
        logger.removeHandler(handler)
    assert (inside, writes_inside) == ("", 0)
    assert after_loop == 1
    assert sink.getvalue().splitlines() == [f"line {i}" for i in range(50)] + ["outside the loop"]
