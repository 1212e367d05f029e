"""Summarise a py-spy collapsed-stack file (`py-spy record -f raw`) as top frames.

    .venv/bin/python bench/flame.py FILE [--top 15] [--under SUBSTRING]

Prints the frames with the most samples on top of the stack (self) and the frames on the
most stacks (inclusive, each counted once per stack), as shares of all samples.
`--under` keeps only the stacks that pass through a frame containing SUBSTRING.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

# py-spy frames look like "function (path/to/file.py:123)"; the line number is dropped so
# one function is one row
_LINE = re.compile(r":\d+\)$")


def frame_name(frame: str) -> str:
    frame = _LINE.sub(")", frame)
    frame = frame.replace(str(Path.cwd()) + "/", "")
    return frame.replace("/.venv/lib/python3.11/site-packages/", "/")


def summarise(path: Path, top: int, under: str | None) -> str:
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or (under is not None and under not in stack):
            continue
        n = int(count)
        frames = [frame_name(f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out = [f"{total} samples" + (f" through {under}" if under else "")]
    out.append("self:")
    out += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    out.append("inclusive:")
    out += [f"  {n / total:6.1%}  {f}" for f, n in incl.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--under", default=None)
    args = parser.parse_args()
    print(summarise(args.file, args.top, args.under))


if __name__ == "__main__":
    main()
