"""A real Nostr relay for tests: PyPI `nostr-relay` in a subprocess, on a port chosen at run
time, with its own YAML config and SQLite file in a temp dir (nostr.md §10.1).

`NostrRelay.start()` / `.stop()` can be called repeatedly on the same port and database,
which is how the tests take a relay down and bring it back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.ports import free_port

START_TIMEOUT_S = 60.0
NODE_DIR = Path(__file__).resolve().parent / "interop" / "nostr"


class NostrRelay:
    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self._dir = work_dir
        self._config = work_dir / "relay.yaml"
        self._config.write_text(
            f"""relay_name: satrank-test-relay
storage:
  sqlalchemy.url: sqlite+aiosqlite:///{work_dir / 'nostr.sqlite3'}
  num_concurrent_reqs: 10
  num_concurrent_adds: 2
  validators:
    - nostr_relay.validators.is_not_too_large
    - nostr_relay.validators.is_signed
    - nostr_relay.validators.is_recent
verification: {{nip05_verification: disabled}}
gunicorn: {{bind: "127.0.0.1:{self.port}", workers: 1, loglevel: warning, reload: false}}
authentication: {{enabled: false}}
max_event_size: 65536
message_timeout: 1800
subscription_limit: 32
max_limit: 6000
"""
        )
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = Path(sys.executable).parent / "nostr-relay"
        log = open(self._dir / "relay.log", "ab")  # the child keeps its own copy of the fd
        self._proc = subprocess.Popen(
            [str(exe), "-c", str(self._config), "serve"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self._dir, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"nostr-relay exited: {self.log_tail()}")
            try:
                info = httpx.get(
                    f"http://127.0.0.1:{self.port}/",
                    headers={"Accept": "application/nostr+json"}, timeout=1,
                )
                if info.status_code == 200 and "supported_nips" in info.json():
                    return
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nostr-relay did not start: {self.log_tail()}")
            time.sleep(0.1)

    def stop(self, *, abrupt: bool = False) -> None:
        """SIGTERM (graceful), or SIGKILL when `abrupt`: a relay dying mid-conversation."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # gunicorn master + worker share the session we created: signal that group only.
        os.killpg(proc.pid, signal.SIGKILL if abrupt else signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def log_tail(self) -> str:
        path = self._dir / "relay.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@contextmanager
def running_relay(work_dir: Path) -> Iterator[NostrRelay]:
    relay = NostrRelay(work_dir)
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


def fetch_with_nostr_tools(
    relay_url: str, nostr_filter: dict[str, object]
) -> list[dict[str, object]]:
    """Events matching the filter, read and verified by npm nostr-tools (an independent client).

    Each item carries the event fields plus `verified` (verifyEvent) and `hashMatches`.
    """
    done = subprocess.run(
        ["node", str(NODE_DIR / "fetch.mjs"), relay_url, json.dumps(nostr_filter)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nostr-tools fetch failed: {done.stderr[-2000:]}")
    events: list[dict[str, object]] = json.loads(done.stdout)
    return events
