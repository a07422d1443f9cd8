"""The order guard's rules, one by one, on hand-built queue states (orchestrator/symmetry/guard.py).

The property tests show reduced runs equal full runs; these pin down when the guard must send a
run to the full simulation, so that loosening a rule by mistake fails here."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orchestrator.symmetry.guard import WORKLOAD, OrderGuard, SymmetryBroken, stream_actor


@dataclass
class Clock:
    now_ns: int = 100


@dataclass
class Phase:
    dim: int
    queue: int
    size_bytes: int


@dataclass(eq=False)
class Chunk:
    dataset: object
    priority: int
    initialized: bool
    queued_ns: int
    started_ns: int = -1
    queue: int = 0
    phase_index: int = 0
    phases: list = field(default_factory=lambda: [Phase(0, 0, 1024)])
    actor_memo: tuple | None = None


@dataclass
class Queues:
    queues: list


def _guard(entries: list[Chunk]) -> tuple[OrderGuard, Clock]:
    clock = Clock()
    guard = OrderGuard(clock)
    guard.queues = Queues([entries])
    return guard, clock


def _two_actors_touch_queue_0(guard: OrderGuard) -> None:
    for actor in ("chunk a", "chunk b"):
        guard.actor = actor
        guard.touch(0)


def test_workload_changed_by_two_actors_in_one_ns_is_refused() -> None:
    guard, clock = _guard([])
    guard.actor = WORKLOAD
    guard.touch(WORKLOAD)
    guard.actor = "chunk a"
    with pytest.raises(SymmetryBroken, match="at 100 ns two activities of NPU 0 change its "
                                             "workload"):
        guard.touch(WORKLOAD)


def test_the_same_actor_or_another_nanosecond_is_fine() -> None:
    guard, clock = _guard([])
    guard.actor = WORKLOAD
    guard.touch(WORKLOAD)
    guard.touch(WORKLOAD)
    clock.now_ns = 101
    guard.actor = "chunk a"
    guard.touch(WORKLOAD)


def test_a_queue_left_without_waiting_chunks_settles() -> None:
    one, two = object(), object()
    guard, _ = _guard([Chunk(one, 5, True, 100, 100), Chunk(two, 7, True, 100, 100)])
    _two_actors_touch_queue_0(guard)
    guard.settle()


def test_distinguishable_chunks_waiting_and_started_now_are_refused() -> None:
    one, two = object(), object()
    # b (priority 7) entered now and runs; a (priority 5) entered now and waits: had a's
    # insertion come first with the slot free, a would run
    guard, _ = _guard([Chunk(two, 7, True, 100, 100), Chunk(one, 5, False, 100)])
    _two_actors_touch_queue_0(guard)
    with pytest.raises(SymmetryBroken, match="dimension queue 0"):
        guard.settle()


def test_interchangeable_chunks_settle() -> None:
    same = object()
    guard, _ = _guard([Chunk(same, 5, True, 100, 100), Chunk(same, 5, False, 100)])
    _two_actors_touch_queue_0(guard)
    guard.settle()


def test_a_newcomer_that_cannot_overtake_settles_and_one_that_can_is_refused() -> None:
    early, new = object(), object()
    waiting_before = Chunk(early, 9, False, 50)
    guard, _ = _guard([Chunk(early, 9, True, 50, 100), waiting_before,
                       Chunk(new, 3, False, 100)])
    _two_actors_touch_queue_0(guard)
    guard.settle()                                  # 3 <= 9: the early chunks go first anyway
    guard, _ = _guard([Chunk(early, 3, True, 50, 100), Chunk(early, 3, False, 50),
                       Chunk(new, 9, False, 100)])
    _two_actors_touch_queue_0(guard)
    with pytest.raises(SymmetryBroken):
        guard.settle()                              # 9 > 3: a removal first would start 3


def test_a_receive_and_a_release_of_one_chunk_scheduled_together_are_refused() -> None:
    guard, clock = _guard([])
    guard.actor = "chunk a"
    guard.stamp(1, 90)                              # a release registered at 90
    guard.stamp(2, 80)                              # a message sent at 80: order known
    with pytest.raises(SymmetryBroken, match="one chunk"):
        guard.stamp(2, 90)                          # a message sent at 90, arriving now


def test_a_chunks_actor_follows_its_phase_and_queue() -> None:
    """The actor is remembered per phase and queue: moving on gives a new one, staying gives
    the remembered one."""
    dataset = object()
    chunk = Chunk(dataset, 5, True, 0, phases=[Phase(0, 0, 1024), Phase(1, 1, 512)])
    first = stream_actor(chunk)
    assert first == (id(dataset), 0, 0, 1024, ((1, 1, 512),))
    assert stream_actor(chunk) is first
    chunk.phase_index, chunk.queue = 1, 1
    assert stream_actor(chunk) == (id(dataset), 1, 1, 512, ())
    chunk.queue = 3                                  # same phase, another queue
    assert stream_actor(chunk) == (id(dataset), 1, 3, 512, ())
