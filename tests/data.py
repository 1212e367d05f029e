"""Where tests find the shared data (never committed to this repository)."""

from __future__ import annotations

from satrank.demo.snapshot import mainnet_snapshot_path

# `../shared/data/` beside the clone, as on developer machines and in CI
# (SATRANK_MAINNET_GRAPH overrides); `satrank demo` uses the same rule.
MAINNET = mainnet_snapshot_path()
