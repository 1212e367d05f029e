"""Bench: parse time of hostile client inputs, at a small size and at each parser's size cap.

    .venv/bin/python bench/parsers.py

The inputs are tests/hostile.py's (the ones the linear-work test judges). For each: the
best-of-5 time of one parse at the start size (64 characters, 512 for macaroons past the
token's own caveats) and at the cap, and the work ratio (parse time over one plain
`upper()` pass of the same input) at both: flat or falling means linear. Also the regex
the Authorization parser replaced, on its worst input, up to the size of the header
reported in issue 13 (187 bytes; it grows by ~40x per doubling).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile import CASES, parse_seconds, work_ratio  # noqa: E402

_OLD_CREDENTIAL = re.compile(r"\A\s*(L402|LSAT)\s+([^:]*?)\s*:\s*([^:]*?)\s*\Z", re.IGNORECASE)


def _old_regex_seconds(n: int) -> float:
    value = "L402" + " " * (n // 2 - 3) + ":" + " " * (n // 2 - 3) + ":"
    started = time.perf_counter()
    _OLD_CREDENTIAL.match(value)
    return time.perf_counter() - started


def main() -> None:
    print("| input | start -> cap (chars) | parse at start | parse at cap | work ratio |")
    print("|---|---|---|---|---|")
    for case in CASES:
        small, large = parse_seconds(case, case.start), parse_seconds(case, case.cap)
        print(f"| {case.name} | {case.start} -> {case.cap} | {small * 1e6:.1f} µs | "
              f"{large * 1e6:.1f} µs | {work_ratio(case, case.start):.1f} -> "
              f"{work_ratio(case, case.cap):.1f} |")
    print()
    print("old Authorization regex, input `L402` + spaces + `:` + spaces + `:`")
    for n in (32, 64, 96, 128, 187):
        print(f"  {n} chars: {_old_regex_seconds(n):.3f} s")


if __name__ == "__main__":
    main()
