"""Child processes of the demo: each in its own process group, all stopped on the way out.

`Children` is a context manager. Every process it starts gets a new session (so a Ctrl-C
in the terminal reaches only the demo, which then stops them in order) and, on Linux,
a parent-death signal (so even a SIGKILLed demo leaves nothing running). On exit the
groups are stopped in reverse start order: SIGTERM, a grace period, then SIGKILL.

Each start writes a fresh `NAME.log` (the previous start's is kept as `NAME.log.1`): the
demo reads what a child prints, simnet's ready line with its ports above all, and must
never find an earlier run's line for a process that no longer exists.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

STOP_GRACE_S = 20.0
_PR_SET_PDEATHSIG = 1


class ChildFailed(RuntimeError):
    """A child exited when it should not have; the message ends with its log tail."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def failure(self, what: str) -> ChildFailed:
        return ChildFailed(f"{self.name} {what} (exit {self.process.returncode}); "
                           f"last lines of {self.log_path}:\n{self.log_tail()}")


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel for SIGTERM when the demo dies.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Children:
    """The demo's processes; `start` one, `run` one to completion, all stopped on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Child] = []

    def __enter__(self) -> Children:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        """Start `argv` with stdout and stderr in a fresh LOG_DIR/NAME.log."""
        log_path = self.log_dir / f"{name}.log"
        if log_path.exists():
            log_path.replace(log_path.with_name(f"{name}.log.1"))
        with open(log_path, "xb") as log:
            process = subprocess.Popen(
                list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        child = Child(name, process, log_path)
        self.running.append(child)
        return child

    def run(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
        """Start and wait; raise `ChildFailed` on a non-zero exit."""
        child = self.start(name, argv, env)
        child.process.wait()
        self.running.remove(child)
        if child.process.returncode != 0:
            raise child.failure("failed")
        return child

    def check_alive(self) -> None:
        """Raise `ChildFailed` for the first child that has exited."""
        for child in self.running:
            if child.process.poll() is not None:
                raise child.failure("stopped unexpectedly")

    def stop_all(self) -> None:
        for child in reversed(self.running):
            stop_group(child.process)
        self.running.clear()


def stop_group(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group, wait up to `grace_s`, then SIGKILL it; always reap."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
    # Whatever the leader left behind in its group (it should be nothing) goes too.
    deadline = time.monotonic() + 2.0
    while _signal_group(process.pid, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to the group; return whether the group still exists."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True
