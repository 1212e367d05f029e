"""SatRank processes on simnet's world clock, through libfaketime.

A bench that moves simnet's world (time scale 0, /advance) by hours in minutes must run
the crawler at the world's time, or evidence decay and probe cool-downs run on the wall
clock: a day-old failure would count as fresh and no node would be probed twice. The
production code keeps reading the system clock; the bench starts each process under
libfaketime (LD_PRELOAD) at the world's time read just before, so that process's
`time.time()`, `datetime.now()` and gRPC's realtime clock start there and run at the wall
rate. The monotonic clock is left alone (asyncio's timers and gRPC's deadlines use it).

Needs the library: `apt-get update && apt-get install -y faketime` (Debian/Ubuntu).
"""

from __future__ import annotations

import glob
from datetime import UTC, datetime
from pathlib import Path

# The thread-safe variant: grpcio and asyncpg read the clock from several threads.
LIBRARY_GLOBS = ("/usr/lib/*/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1",
                 "/usr/local/lib/faketime/libfaketimeMT.so.1")
INSTALL_HINT = ("libfaketime is needed to run the crawler on the simulated clock: "
                "apt-get update && apt-get install -y faketime")


def faketime_library() -> Path:
    """libfaketime's path, or SystemExit saying how to install it."""
    for pattern in LIBRARY_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[0])
    raise SystemExit(INSTALL_HINT)


def world_clock_env(env: dict[str, str], unix_time: float, library: Path) -> dict[str, str]:
    """`env` for a process whose realtime clock starts at `unix_time` (UTC)."""
    start = datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return {**env, "LD_PRELOAD": str(library), "FAKETIME": f"@{start}",
            # libfaketime parses the start in local time
            "TZ": "UTC", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
