"""Integration: the shipped Alertmanager configuration is valid for `amtool check-config`,
and a real Alertmanager running it delivers a critical SatRank alert to the pager webhook
(the receiver a person reads), while the e-mail route stays configured.

Only the webhook URL, the grouping waits and the SMTP host are changed for the run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "infra" / "alertmanager" / "alertmanager.yml"


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: scripts/install-system-deps.sh installs it"
    return found


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("amtool"), "check-config", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)


def test_shipped_config_passes_amtool() -> None:
    result = _check(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 receivers" in result.stdout


def test_prometheus_sends_alerts_to_this_alertmanager() -> None:
    prometheus = (ROOT / "infra" / "prometheus" / "prometheus.yml").read_text()
    assert 'targets: ["127.0.0.1:9093"]' in prometheus.split("alerting:", 1)[1]


def test_a_broken_config_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(CONFIG.read_text().replace("receiver: operator-pager",
                                                 "receiver: nobody", 1))
    result = _check(broken)
    assert result.returncode != 0


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Webhook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/satrank", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_critical_alert_reaches_the_pager_webhook(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    config = tmp_path / "alertmanager.yml"
    text = CONFIG.read_text()
    for old, new in [('"https://pager.example.com/satrank"', f'"{url}"'),
                     ("group_wait: 30s", "group_wait: 0s"),
                     ('"smtp.example.com:587"', f'"127.0.0.1:{free_port()}"'),
                     ('smtp_auth_password_file: "/etc/prometheus/smtp-password"', "")]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    config.write_text(text)
    port = free_port()
    process = subprocess.Popen(
        [_tool("prometheus-alertmanager"), f"--config.file={config}",
         f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    alert = [{"labels": {"alertname": "SatRankChallengeMintingFailing", "severity": "critical"},
              "annotations": {"runbook": "DEPLOY.md#payments-broken"}}]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for _ in range(200):
                try:
                    if client.post("/api/v2/alerts", json=alert).status_code == 200:
                        break
                except httpx.TransportError:  # not listening yet
                    pass
                time.sleep(0.1)
            else:
                pytest.fail("Alertmanager never accepted the alert")
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stderr is not None
        process.stderr.close()
    assert received, "the pager webhook never got the alert"
    delivered = received[0]
    assert delivered["receiver"] == "operator-pager" and delivered["status"] == "firing"
    assert delivered["alerts"][0]["labels"]["alertname"] == "SatRankChallengeMintingFailing"
    assert delivered["alerts"][0]["annotations"]["runbook"] == "DEPLOY.md#payments-broken"
