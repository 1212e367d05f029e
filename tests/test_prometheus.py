"""Integration: a real Prometheus, with the committed scrape config and rules, scrapes the
real api's /metrics and a real `satrank crawl` (against simnet) and answers queries; every
metric the alert rules use is one the processes actually export.

The scrape config is the committed one with only the targets and intervals changed.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.outcomes import ProbeOutcome
from tests.cli import satrank_env, start_satrank
from tests.live_server import live_server
from tests.ports import free_port
from tests.simnet_fixture import SimnetHandle

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_DIR = ROOT / "infra" / "prometheus"
RULES = PROMETHEUS_DIR / "satrank-rules.yml"
SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "s" * 32})
# Written by cron jobs into node exporter's textfile directory, not scraped from our
# processes: `satrank backup --metrics-file` (test_backup, test_backup_channels) and
# `satrank healthcheck --challenge --metrics-file` (test_healthcheck) write them.
TEXTFILE_METRICS = {"satrank_backup_last_success_timestamp_seconds",
                    "satrank_healthcheck_challenge_ok",
                    "satrank_healthcheck_challenge_last_run_timestamp_seconds"}


def render_config(api_port: int, crawler_port: int) -> str:
    text = (PROMETHEUS_DIR / "prometheus.yml").read_text()
    for old, new in [("scrape_interval: 15s", "scrape_interval: 1s"),
                     ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                     ('"127.0.0.1:3000"', f'"127.0.0.1:{api_port}"'),
                     ('"127.0.0.1:9091"', f'"127.0.0.1:{crawler_port}"'),
                     ("- satrank-rules.yml", f"- {RULES}")]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def rule_expressions() -> list[str]:
    """The rules file without its comments (expressions, labels and annotations)."""
    return [line.split("#", 1)[0] for line in RULES.read_text().splitlines()]


@pytest.fixture
def crawler_metrics_port(tmp_path: Path, db_dsn: str, simnet: SimnetHandle) -> Iterator[int]:
    """The real `satrank crawl` against simnet, metrics on a free loopback port."""
    port = free_port()
    oracle = simnet.oracle_dir
    env = satrank_env(
        tmp_path / "crawler-data", DATABASE_URL=db_dsn, CRAWLER_METRICS_PORT=str(port),
        LND_GRPC_HOST=simnet.oracle_host, LND_TLS_CERT_PATH=str(oracle / "tls.cert"),
        LND_READONLY_MACAROON_PATH=str(oracle / "readonly.macaroon"),
        LND_PAY_MACAROON_PATH=str(oracle / "pay.macaroon"),
        CRAWL_PROBES_PER_ROUND="10", CRAWL_PROBE_INTERVAL_S="1",
    )
    process = start_satrank("crawl", env=env)
    try:
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-3000:]


@pytest.fixture
def prometheus(tmp_path: Path, db_dsn: str, crawler_metrics_port: int) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: .ci/run installs it (apt: prometheus)"
    with live_server(create_app(SETTINGS, db_dsn)) as base:
        # No LND here: a paid route cannot mint its challenge, as when lnd refuses
        # AddInvoice, so the series SatRankChallengeMintingFailing reads exists.
        refused = httpx.get(f"{base}/api/profile/02{'00' * 32}", timeout=30)
        assert refused.status_code == 503, refused.text
        config = tmp_path / "prometheus.yml"
        config.write_text(render_config(int(base.rsplit(":", 1)[1]), crawler_metrics_port))
        port = free_port()
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)
            assert process.stderr is not None
            process.stderr.close()


def _poll_query(base: str, query: str, *, attempts: int = 240) -> list[dict[str, Any]]:
    """Query until it returns a series (discovery, scrapes and a crawler cycle take time)."""
    with httpx.Client(base_url=base, timeout=5) as client:
        for _ in range(attempts):
            try:
                answer = client.get("/api/v1/query", params={"query": query}).json()
            except (httpx.TransportError, ValueError):  # not listening, or not ready yet
                answer = {}
            if answer.get("status") == "success" and answer["data"]["result"]:
                return list(answer["data"]["result"])
            time.sleep(0.25)
    pytest.fail(f"Prometheus never answered {query!r} with a series")


def test_prometheus_scrapes_api_and_crawler_and_knows_every_rule_metric(
    prometheus: str,
) -> None:
    assert _poll_query(prometheus, 'up{job="satrank-api"} == 1')
    assert _poll_query(prometheus, 'up{job="satrank-crawler"} == 1')
    # the api's own series (the scrapes themselves are requests it counts)
    # (the first scrape cannot count itself: wait for the series of a later one)
    requests = _poll_query(prometheus,
                           'satrank_http_requests_total{job="satrank-api",route="/metrics"}')
    assert requests
    # the crawler synced the graph, scored and probed simnet
    for phase in ("graph_sync", "scoring", "probes"):
        stamp = _poll_query(prometheus, 'satrank_crawler_last_success_timestamp_seconds'
                                        f'{{job="satrank-crawler", phase="{phase}"}}')
        assert float(stamp[0]["value"][1]) > time.time() - 600
    probes = _poll_query(prometheus, 'sum(satrank_crawler_probes_total{job="satrank-crawler"})')
    assert float(probes[0]["value"][1]) > 0
    nodes = _poll_query(prometheus, 'satrank_crawler_graph_nodes{job="satrank-crawler"}')
    assert float(nodes[0]["value"][1]) > 0

    # Every satrank_* name the alert rules use is a series one of the processes exports,
    # and each phase/outcome label value they select exists.
    expressions = rule_expressions()
    used = {name for expr in expressions for name in re.findall(r"\b(satrank_\w+)", expr)}
    assert "satrank_crawler_last_success_timestamp_seconds" in used
    assert TEXTFILE_METRICS <= used
    for name in sorted(used - TEXTFILE_METRICS):
        assert _poll_query(prometheus, f'count({{__name__="{name}"}})'), name
    for phase in {p for e in expressions for p in re.findall(r'phase="(\w+)"', e)}:
        assert _poll_query(prometheus, 'satrank_crawler_last_success_timestamp_seconds'
                                       f'{{phase="{phase}"}}'), phase
    outcomes = {o for e in expressions for alt in re.findall(r'outcome=~"([\w|]+)"', e)
                for o in alt.split("|")}
    assert outcomes and outcomes <= {o.value for o in ProbeOutcome}

    with httpx.Client(base_url=prometheus, timeout=5) as client:
        groups = client.get("/api/v1/rules").json()["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert {"SatRankApiDown", "SatRankCrawlerDown", "SatRankScoringStale"} <= names
