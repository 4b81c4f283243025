"""Freezing the heap out of the garbage collector's full passes (app/core/heap.py), once per stage.
What the test session froze (conftest) stays frozen here: the function only has to move what
is not, and the objects it walks are then few."""

from __future__ import annotations

import gc

from app.core import heap


def test_freeze_moves_live_objects_out_of_the_collectors_reach_once_per_stage(no_stage_frozen):
    kept = [[i] for i in range(50_000)]  # lists: always tracked by the collector
    assert any(o is kept[0] for o in gc.get_objects())
    assert heap.freeze_heap("a") >= len(kept)
    assert not any(o is kept[0] for o in gc.get_objects())  # a full pass no longer visits it
    assert heap.freeze_heap("a") == 0  # the same stage again: nothing new frozen
    later = [[i] for i in range(10)]
    assert any(o is later[0] for o in gc.get_objects())
