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


def test_the_crawler_loads_the_registry_stack_only_for_a_registry_round() -> None:
    """httpx (with its command-line extras) and jsonschema cost every crawler start ~0.2 s
    of CPU; only the registry job uses them."""
    loaded = _modules_after("import satrank.crawler.main")
    assert not {m for m in loaded if m.split(".")[0] in {"httpx", "jsonschema"}}
    assert "satrank.crawler.registry" not in loaded
    assert "httpx" in _modules_after("import satrank.crawler.main; "
                                     "import satrank.crawler.registry")
