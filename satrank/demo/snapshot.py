"""Where the shared mainnet graph snapshot lives beside a clone (never committed)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SNAPSHOT_NAME = "lngraph-mainnet-20251025.json.gz"
# <clone>/satrank/demo/snapshot.py -> <clone>/../shared/data/, as on developer machines and CI
_BESIDE_CLONE = Path(__file__).resolve().parents[3] / "shared" / "data" / SNAPSHOT_NAME


def mainnet_snapshot_path(environ: Mapping[str, str] | None = None) -> Path:
    """SATRANK_MAINNET_GRAPH when set, else `../shared/data/<snapshot>` beside the clone.

    The file may not exist (a fresh clone without the shared data): callers check.
    """
    env = os.environ if environ is None else environ
    override = env.get("SATRANK_MAINNET_GRAPH")
    return Path(override) if override else _BESIDE_CLONE
