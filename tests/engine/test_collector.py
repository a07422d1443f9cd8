"""The collector is quiet during a simulation and exactly as before after it."""

from __future__ import annotations

import gc

import pytest

from orchestrator.engine.collector import YOUNG_THRESHOLD, quiet_collector


def test_thresholds_are_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with quiet_collector():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > frozen_before      # what existed is frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_an_error_inside_restores_them_too() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with quiet_collector():
            raise RuntimeError("a failed simulation")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_are_freed_after() -> None:
    """A sweep simulating many runs in one process must not keep each run's cycles."""

    class Node:
        pass

    with quiet_collector():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ids = {id(a), id(b)}
        del a, b
    gc.collect()
    assert not ids & {id(obj) for obj in gc.get_objects() if isinstance(obj, Node)}


def test_a_callers_own_frozen_objects_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with quiet_collector():
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
