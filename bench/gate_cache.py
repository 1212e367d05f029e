"""The verified-credential cache of `l402.gate.PaywallGate`: CPU per cache hit, and memory
held after requests that carry one valid token beside junk Authorization values.

    .venv/bin/python bench/gate_cache.py [--gate-file FILE]

`--gate-file` loads PaywallGate from another copy of satrank/l402/gate.py, to compare
with an earlier version (`git show main:satrank/l402/gate.py > /tmp/gate_main.py`).
Only the gate's verification runs (`valid_token_id`), no ledger, no HTTP.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import secrets
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from satrank.l402.caveats import minted_caveats  # noqa: E402
from satrank.l402.identifier import Identifier  # noqa: E402
from satrank.l402.mint import encode_macaroon, mint_macaroon  # noqa: E402

SECRET = b"b" * 40
NOW = 1_700_000_000
HITS = 200_000
JUNK_REQUESTS = 2_000
JUNK_BYTES = 4_000


class NoLedger:
    """valid_token_id never debits; any ledger call is a bug in the benchmark."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"ledger.{name} called")


def gate_class(gate_file: str | None) -> Any:
    if gate_file is None:
        from satrank.l402.gate import PaywallGate
        return PaywallGate
    spec = importlib.util.spec_from_file_location("bench_gate", gate_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module.PaywallGate


def authorization() -> str:
    preimage = secrets.token_bytes(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), secrets.token_bytes(32))
    caveats = [c.encode() for c in minted_caveats(valid_until_unix=NOW + 10**6, credits=21)]
    return f"L402 {encode_macaroon(mint_macaroon(ident, caveats, SECRET))}:{preimage.hex()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gate-file")
    args = parser.parse_args()
    gate = gate_class(args.gate_file)(secrets=[SECRET], ledger=NoLedger())
    header = [authorization()]
    assert gate.valid_token_id(authorizations=header, now_unix=NOW) is not None

    started = time.process_time()
    for _ in range(HITS):
        gate.valid_token_id(authorizations=header, now_unix=NOW)
    per_hit_us = (time.process_time() - started) / HITS * 1e6

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(JUNK_REQUESTS):
        junk = f"Basic {i:08d}{'x' * JUNK_BYTES}"
        gate.valid_token_id(authorizations=[junk, *header], now_unix=NOW)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(f"cache hit: {per_hit_us:.2f} us CPU ({HITS} hits)")
    print(f"held after {JUNK_REQUESTS} requests with a {JUNK_BYTES} B junk header beside "
          f"the valid token: {held / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
