"""How satrank processes set up the cyclic garbage collector (satrank/collector.py)."""

from __future__ import annotations

import gc

from satrank.collector import (
    BATCH_YOUNG_THRESHOLD,
    collector_paused,
    freeze_startup_objects,
    tune_for_batches,
)


def test_nothing_is_collected_while_paused_and_the_collector_comes_back() -> None:
    assert gc.isenabled()
    collections = gc.get_stats()[0]["collections"]
    with collector_paused():
        assert not gc.isenabled()
        garbage = [[] for _ in range(5 * gc.get_threshold()[0])]  # would trigger some
        del garbage
        assert gc.get_stats()[0]["collections"] == collections
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller's own pause is left as it was
    finally:
        gc.enable()


def test_start_up_objects_are_frozen_out_of_the_collectors_generations() -> None:
    gc.unfreeze()
    try:
        alive = [object(), [], {}]
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(alive)
        assert gc.get_count()[2] == 0 and not gc.get_objects(generation=2)
    finally:
        gc.unfreeze()


def test_batch_processes_collect_the_young_generation_less_often() -> None:
    before = gc.get_threshold()
    try:
        tune_for_batches()
        assert gc.get_threshold() == (BATCH_YOUNG_THRESHOLD, before[1], before[2])
        assert BATCH_YOUNG_THRESHOLD > before[0]
    finally:
        gc.set_threshold(*before)
