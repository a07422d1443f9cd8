"""The event queue: integer-ns times, FIFO buckets per time, and the run loop.

Reproduces the analytical backend's queue (SEMANTICS §2): an ordered list of per-time event
lists, where an event scheduled for the time being processed joins the end of the list being
processed. Events are ``(handler, arg)`` tuples, never objects, and events at one time run in
the order they were scheduled, so every run is deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class EventQueue:
    """A heap of distinct times, each with a FIFO bucket of ``(handler, arg)`` pairs."""

    __slots__ = ("now_ns", "events_processed", "_times", "_buckets")

    def __init__(self) -> None:
        self.now_ns: int = 0
        self.events_processed: int = 0
        self._times: list[int] = []
        self._buckets: dict[int, list[tuple[Handler, Any]]] = {}

    def schedule(self, delay_ns: int, handler: Handler, arg: Any = None) -> None:
        """Run ``handler(arg)`` ``delay_ns`` after now (0 = later in the current time)."""
        if delay_ns < 0:
            raise ValueError(f"cannot schedule into the past (delay {delay_ns} ns)")
        time_ns = self.now_ns + delay_ns
        bucket = self._buckets.get(time_ns)
        if bucket is None:
            self._buckets[time_ns] = [(handler, arg)]
            heapq.heappush(self._times, time_ns)
        else:
            bucket.append((handler, arg))

    def pending(self) -> bool:
        return bool(self._times)

    def run(self) -> None:
        """Process events in time order until none remain."""
        # Hot loop: locals avoid attribute lookups per event.
        times = self._times
        buckets = self._buckets
        heappop = heapq.heappop
        processed = 0
        while times:
            time_ns = heappop(times)
            self.now_ns = time_ns
            bucket = buckets[time_ns]
            index = 0
            # The bucket may grow while it is walked: work scheduled for "now" joins it.
            while index < len(bucket):
                handler, arg = bucket[index]
                handler(arg)
                index += 1
            processed += index
            del buckets[time_ns]
        self.events_processed += processed
