"""Where tests find the shared data (never committed to this repository)."""

from __future__ import annotations

import os
from pathlib import Path

# `../shared/data/` beside the clone, as on developer machines and in CI.
MAINNET = Path(
    os.environ.get("SATRANK_MAINNET_GRAPH")
    or Path(__file__).resolve().parents[2] / "shared/data/lngraph-mainnet-20251025.json.gz"
)
