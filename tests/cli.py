"""Run the real `satrank` command in a subprocess with a controlled environment."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path


def satrank_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SATRANK_ENV"}}
    env["SATRANK_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_satrank(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "satrank", *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def start_satrank(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "satrank", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def stderr_lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """`proc`'s stderr, line by line, fed by a daemon thread (so a test can wait with a
    timeout without blocking on the pipe)."""
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q
