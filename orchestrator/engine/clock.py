"""The event queue: integer-ns times, FIFO buckets per time, and the run loop.

Reproduces the analytical backend's queue (SEMANTICS §2): an ordered list of per-time event
lists, where an event scheduled for the time being processed joins the end of the list being
processed. Events are ``(seq, handler, arg)`` tuples, never objects; ``seq`` counts insertions,
so events at one time run in the order they were scheduled and every run is deterministic.

Co-simulation adds two things (docs/cosim.md):

* ``reserve()`` hands out a sequence number now for an event whose time is only learnt later
  (a message's arrival, computed by a network adapter); ``schedule_at`` files it under that
  number, so it runs exactly where it would have run had its time been known at once.
* a *horizon*: before processing a time at or past ``horizon_ns``, the queue calls
  ``on_horizon(time)``, which synchronises with the adapters and may add earlier events and
  move the horizon.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]
NEVER = 1 << 62


class EventQueue:
    """A heap of distinct times, each with a bucket of ``(seq, handler, arg)`` in seq order."""

    __slots__ = ("now_ns", "events_processed", "horizon_ns", "on_horizon", "_seq", "_times",
                 "_buckets")

    def __init__(self) -> None:
        self.now_ns: int = 0
        self.events_processed: int = 0
        self.horizon_ns: int = NEVER
        self.on_horizon: Callable[[int], None] | None = None
        self._seq = 0
        self._times: list[int] = []
        self._buckets: dict[int, list[tuple[int, Handler, Any]]] = {}

    def schedule(self, delay_ns: int, handler: Handler, arg: Any = None) -> None:
        """Run ``handler(arg)`` ``delay_ns`` after now (0 = later in the current time)."""
        if delay_ns < 0:
            raise ValueError(f"cannot schedule into the past (delay {delay_ns} ns)")
        time_ns = self.now_ns + delay_ns
        seq = self._seq
        self._seq = seq + 1
        bucket = self._buckets.get(time_ns)
        if bucket is None:
            self._buckets[time_ns] = [(seq, handler, arg)]
            heapq.heappush(self._times, time_ns)
        else:
            bucket.append((seq, handler, arg))

    def reserve(self) -> int:
        """A sequence number for an event to be filed later with ``schedule_at``."""
        seq = self._seq
        self._seq = seq + 1
        return seq

    def schedule_at(self, time_ns: int, seq: int, handler: Handler, arg: Any = None) -> None:
        """File an event under a reserved sequence number (at or after now)."""
        if time_ns < self.now_ns:
            raise ValueError(f"event at {time_ns} ns is in the past (now {self.now_ns} ns)")
        bucket = self._buckets.get(time_ns)
        if bucket is None:
            self._buckets[time_ns] = [(seq, handler, arg)]
            heapq.heappush(self._times, time_ns)
            return
        # usually the newest or nearly so: walk back from the end (equal seqs keep their order)
        index = len(bucket)
        while index and bucket[index - 1][0] > seq:
            index -= 1
        bucket.insert(index, (seq, handler, arg))

    @property
    def events_scheduled(self) -> int:
        """Events scheduled or reserved so far; ``events_processed`` is only summed when the
        run loop ends, so a progress display counts this instead."""
        return self._seq

    def pending(self) -> bool:
        return bool(self._times)

    def next_time(self) -> int | None:
        return self._times[0] if self._times else None

    def run_until(self, limit_ns: int) -> None:
        """Process the events strictly before ``limit_ns`` (an adapter model's own clock)."""
        times = self._times
        buckets = self._buckets
        while times and times[0] < limit_ns:
            time_ns = heapq.heappop(times)
            self.now_ns = time_ns
            bucket = buckets[time_ns]
            for _, handler, arg in bucket:       # items appended meanwhile are walked too
                handler(arg)
            self.events_processed += len(bucket)
            del buckets[time_ns]

    def run(self) -> None:
        """Process events in time order until none remain."""
        # Hot loop: locals avoid attribute lookups per event. ``on_horizon`` is set before a
        # run (by the network port), never during it.
        times = self._times
        buckets = self._buckets
        heappop = heapq.heappop
        on_horizon = self.on_horizon
        processed = 0
        while True:
            if on_horizon is not None and (not times or times[0] >= self.horizon_ns):
                # synchronise first: adapters may add events before the next local one
                on_horizon(times[0] if times else NEVER)
                if times and times[0] >= self.horizon_ns:
                    raise RuntimeError("synchronisation did not advance the horizon")
            if not times:
                break
            time_ns = heappop(times)
            self.now_ns = time_ns
            bucket = buckets[time_ns]
            # The bucket may grow while it is walked (work scheduled for "now" joins it); a
            # list's iterator goes on to the items appended meanwhile.
            for _, handler, arg in bucket:
                handler(arg)
            processed += len(bucket)
            del buckets[time_ns]
        self.events_processed += processed
