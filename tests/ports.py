"""A port for a server another process will bind later.

A port the kernel hands out for `bind(("127.0.0.1", 0))` comes from the ephemeral range,
the same range every outgoing connection's local port is drawn from: between the moment
a test releases it and the moment a child (a demo's crawler, a relay, nginx) binds it, a
connection to Postgres or simnet may take it. Ports below that range are never handed
out implicitly, so choosing one there (and checking it is free) leaves only another
program on the machine binding the very same port in that window.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and outside the ephemeral range."""
    top = max(_ephemeral_start(), _LOWEST + 1_000)
    for _ in range(200):
        port = random.randrange(_LOWEST, top)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {_LOWEST}..{top}")
