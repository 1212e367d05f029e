"""The crawler process starts without the modules only other commands need (each costs
every `satrank crawl --once` start-up time: pynostr and its stack ~0.15 s)."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {statement}; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


def test_the_crawler_loads_no_nostr_signing_stack() -> None:
    loaded = _modules_after("import satrank.crawler.main")
    assert "satrank.crawler.jobs" in loaded  # the crawler itself is there
    assert not {m for m in loaded if m.split(".")[0] in {"pynostr", "requests"}}
