"""How satrank processes use Python's cyclic garbage collector.

Start-up imports (numpy, scipy, grpc, asyncpg, starlette, ...) leave some 100k+ long-lived
objects and next to no garbage cycles. Left in the collector's generations, every full
collection walks all of them again with the event loop stopped (0.15-0.35 s per crawl
cycle measured on the shared bench box), and the ~150 young collections the imports
trigger themselves find nothing to free. So processes freeze what start-up built out of
the collector's reach (`gc.freeze`) and a batch process (the crawler) collects its young
generation less often: its allocations come in bursts of ~100k rows that mostly die
together, by reference counting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two young collections in batch processes (Python's default: 700).
BATCH_YOUNG_THRESHOLD = 10_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection inside the block (imports, building many acyclic objects)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_startup_objects(*, collect: bool = True) -> None:
    """Move everything alive now out of the collector's generations (after one collection
    of the start-up garbage unless `collect` is False: imports made under
    `collector_paused` leave none worth a full pass)."""
    if collect:
        gc.collect()
    gc.freeze()


def tune_for_batches() -> None:
    """Young collections every BATCH_YOUNG_THRESHOLD allocations, older ones as before."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(BATCH_YOUNG_THRESHOLD, middle, old)
