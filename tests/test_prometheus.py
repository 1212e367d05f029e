"""Integration: a real Prometheus, with the committed scrape config and rules, scrapes the
api over HTTP and answers queries through its HTTP API.

The api's own /metrics route is built on another branch; until it lands in main this test
serves prometheus_client's default REGISTRY (where every SatRank metric registers) at
/metrics in front of the real app. The scrape config is the committed one with only the
targets and intervals changed.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from satrank.api.app import create_app
from satrank.config import Settings
from tests.live_server import live_server
from tests.nginx_fixture import free_port

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_DIR = ROOT / "infra" / "prometheus"
SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "s" * 32})


def with_registry_metrics(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/metrics":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode())]})
            await send({"type": "http.response.body", "body": generate_latest(REGISTRY)})
            return
        await app(scope, receive, send)

    return wrapped


def render_config(api_port: int) -> str:
    text = (PROMETHEUS_DIR / "prometheus.yml").read_text()
    for old, new in [("scrape_interval: 15s", "scrape_interval: 1s"),
                     ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                     ('"127.0.0.1:3000"', f'"127.0.0.1:{api_port}"'),
                     ("- satrank-rules.yml", f"- {PROMETHEUS_DIR / 'satrank-rules.yml'}")]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def prometheus(tmp_path: Path, db_dsn: str) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: .ci/run installs it (apt: prometheus)"
    with live_server(with_registry_metrics(create_app(SETTINGS, db_dsn))) as base:
        config = tmp_path / "prometheus.yml"
        config.write_text(render_config(int(base.rsplit(":", 1)[1])))
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


def _poll_query(base: str, query: str, *, attempts: int = 120) -> list[dict[str, Any]]:
    """Query until it returns a series; target discovery alone takes about 5 s."""
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


def test_prometheus_scrapes_the_api_and_answers_queries(prometheus: str) -> None:
    up = _poll_query(prometheus, 'up{job="satrank-api"} == 1')
    assert up[0]["metric"]["job"] == "satrank-api"
    samples = _poll_query(prometheus, 'process_resident_memory_bytes{job="satrank-api"}')
    assert float(samples[0]["value"][1]) > 0
    crawler = _poll_query(prometheus, 'up{job="satrank-crawler"}')
    assert crawler[0]["value"][1] == "0"  # no crawler runs here: the scrape reports it down
    with httpx.Client(base_url=prometheus, timeout=5) as client:
        groups = client.get("/api/v1/rules").json()["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert {"SatRankApiDown", "SatRankCrawlerDown", "SatRankScoringStale"} <= names
