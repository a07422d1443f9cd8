"""The event queue (orchestrator/engine/clock.py): time order, FIFO within a time, work
scheduled for "now" joining the pass being processed, no scheduling into the past, and the
count of processed events."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.clock import EventQueue


RUNAWAY = 10_000


def guard(log: list) -> None:
    """Fail instead of hanging if a broken queue re-runs events forever."""
    if len(log) > RUNAWAY:
        raise RuntimeError("the event queue keeps re-running events")


def recorder(queue: EventQueue, log: list):
    def handler(arg):
        guard(log)
        log.append((queue.now_ns, arg))
    return handler


def test_empty_queue():
    queue = EventQueue()
    assert not queue.pending()
    queue.run()
    assert queue.now_ns == 0
    assert queue.events_processed == 0


def test_events_run_in_time_order():
    queue = EventQueue()
    log: list = []
    record = recorder(queue, log)
    for delay, name in [(30, "c"), (10, "a"), (20, "b"), (0, "zero")]:
        queue.schedule(delay, record, name)
    assert queue.pending()
    queue.run()
    assert log == [(0, "zero"), (10, "a"), (20, "b"), (30, "c")]
    assert queue.now_ns == 30
    assert not queue.pending()
    assert queue.events_processed == 4


def test_fifo_within_one_time():
    queue = EventQueue()
    log: list = []
    record = recorder(queue, log)
    for name in ["first", "second", "third"]:
        queue.schedule(5, record, name)
    queue.schedule(1, record, "early")
    queue.schedule(5, record, "fourth")
    queue.run()
    assert log == [(1, "early"), (5, "first"), (5, "second"), (5, "third"), (5, "fourth")]


def test_same_time_from_different_origins_is_fifo_by_scheduling_order():
    """An event scheduled at t=3 for t=5 (delay 2) comes after one scheduled at t=0 for t=5."""
    queue = EventQueue()
    log: list = []
    record = recorder(queue, log)
    queue.schedule(5, record, "from t=0")
    queue.schedule(3, lambda _: queue.schedule(2, record, "from t=3"))
    queue.schedule(5, record, "also from t=0")
    queue.run()
    assert log == [(5, "from t=0"), (5, "also from t=0"), (5, "from t=3")]


def test_zero_delay_during_processing_runs_in_same_pass_after_the_others():
    queue = EventQueue()
    log: list = []
    record = recorder(queue, log)

    def spawner(arg):
        guard(log)
        log.append((queue.now_ns, arg))
        queue.schedule(0, record, "spawned by " + arg)

    queue.schedule(7, spawner, "a")
    queue.schedule(7, record, "b")
    queue.schedule(7, spawner, "c")
    queue.schedule(8, record, "later")
    queue.run()
    assert log == [(7, "a"), (7, "b"), (7, "c"), (7, "spawned by a"), (7, "spawned by c"),
                   (8, "later")]
    assert queue.events_processed == 6


def test_zero_delay_chain_stays_at_the_same_time():
    queue = EventQueue()
    log: list = []

    def chain(depth):
        guard(log)
        log.append((queue.now_ns, depth))
        if depth < 5:
            queue.schedule(0, chain, depth + 1)

    queue.schedule(4, chain, 0)
    queue.run()
    assert log == [(4, d) for d in range(6)]
    assert queue.events_processed == 6


def test_zero_delay_before_running_runs_at_time_zero():
    queue = EventQueue()
    log: list = []
    queue.schedule(0, recorder(queue, log), "x")
    queue.run()
    assert log == [(0, "x")]


def test_negative_delay_raises():
    queue = EventQueue()
    with pytest.raises(ValueError):
        queue.schedule(-1, lambda _: None)
    assert not queue.pending()


def test_negative_delay_raises_during_processing_and_leaves_time_unchanged():
    queue = EventQueue()
    seen = []

    def bad(_):
        seen.append(queue.now_ns)
        with pytest.raises(ValueError):
            queue.schedule(-3, lambda _: None)

    queue.schedule(10, bad)
    queue.run()
    assert seen == [10]
    assert queue.now_ns == 10
    assert queue.events_processed == 1


def test_now_advances_only_to_event_times_and_delays_are_relative():
    queue = EventQueue()
    log: list = []
    record = recorder(queue, log)
    queue.schedule(100, lambda _: queue.schedule(50, record, "rel"))
    queue.run()
    assert log == [(150, "rel")]
    assert queue.now_ns == 150


def test_events_processed_accumulates_across_runs():
    queue = EventQueue()
    noop = lambda _: None  # noqa: E731
    for delay in (1, 1, 2):
        queue.schedule(delay, noop)
    queue.run()
    assert queue.events_processed == 3
    queue.schedule(5, noop)
    queue.schedule(5, noop)
    queue.run()
    assert queue.events_processed == 5
    assert queue.now_ns == 7


def test_handler_receives_its_argument():
    queue = EventQueue()
    got = []
    payload = {"k": 1}
    queue.schedule(2, got.append, payload)
    queue.schedule(2, got.append)          # default argument: None
    queue.run()
    assert got[0] is payload and got[1] is None


@settings(derandomize=True, deadline=None, max_examples=200)
@given(plan=st.lists(st.tuples(st.integers(0, 50),
                               st.lists(st.integers(0, 20), max_size=3)), max_size=40))
def test_order_is_time_then_scheduling_order(plan):
    """Random events, some of which schedule children when they run: the queue's order equals
    a reference model (stable sort by time, then by the moment each event was scheduled)."""
    queue = EventQueue()
    log: list = []
    counter = [0]
    scheduled = []              # (time, sequence, label), in scheduling order

    def schedule(delay, children, label):
        seq = counter[0]
        counter[0] += 1
        scheduled.append((queue.now_ns + delay, seq, label))
        queue.schedule(delay, run_event, (label, children))

    def run_event(arg):
        label, children = arg
        if len(log) > 200:                  # at most 40 events + 3 children each
            raise RuntimeError("the event queue keeps re-running events")
        log.append((queue.now_ns, label))
        for index, child_delay in enumerate(children):
            schedule(child_delay, [], f"{label}.{index}")

    for index, (delay, children) in enumerate(plan):
        schedule(delay, children, str(index))
    queue.run()

    assert len(log) == len(scheduled) == queue.events_processed
    times = [t for t, _ in log]
    assert times == sorted(times)
    # within one time, events run in the order they were scheduled
    expected = [(t, label) for t, _, label in sorted(scheduled, key=lambda e: (e[0], e[1]))]
    assert log == expected
