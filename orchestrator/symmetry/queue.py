"""The representative's event queue: integer-ns times, each bucket in the full run's order.

Same interface as ``engine.clock.EventQueue`` (``schedule``, ``reserve``, ``schedule_at``,
``run``, the horizon hook), but an event carries a ``Record`` instead of a sequence number:
while an event is processed, everything it schedules becomes its child, and a bucket keeps
its events sorted by ``order.precedes``. Most buckets hold one event, so the comparison is rare.

Two extra operations serve the relabelled copies (``mirror``) and 1.0's phase barrier, whose
release of NPU 0 runs inside another NPU's event (``continue_as`` / ``run_as``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from adapters.base import NEVER
from orchestrator.symmetry.group import OrbitGroup
from orchestrator.symmetry.order import ROOT, Record, SymmetryBroken, precedes

Handler = Callable[[Any], None]
# (record, copy, handler, arg, sub): the event ``record`` as run at NPU ``copy``; ``sub`` is
# None for an ordinary event, or (barrier position, rank) for a barrier release run inside it
Entry = tuple[Record, int, Handler, Any, tuple[int, int] | None]


class OrbitEventQueue:
    __slots__ = ("now_ns", "events_processed", "horizon_ns", "on_horizon", "group", "_times",
                 "_buckets", "_parent", "_copy", "_sub", "_major", "_minor", "_walking",
                 "_scheduled")

    def __init__(self, group: OrbitGroup) -> None:
        self.now_ns = 0
        self.events_processed = 0
        self.horizon_ns = NEVER
        self.on_horizon: Callable[[int], None] | None = None
        self.group = group
        self._times: list[int] = []
        self._buckets: dict[int, list[Entry]] = {}
        self._parent: Record = ROOT       # the event being processed (ROOT: start-up)
        self._copy = 0
        self._sub: tuple[int, int] | None = None
        self._major = 0
        self._minor = 0
        self._walking = -1                # index in the current bucket, -1 between buckets
        self._scheduled = 0

    # -- slots ----------------------------------------------------------------------------
    def _slot(self, time_ns: int) -> Record:
        parent, copy = self._parent, self._copy
        if self._sub is None:
            idx = (self._major, 0, 0)
            self._major += 1
        else:
            idx = (self._sub[0], self._sub[1], self._minor)
            self._minor += 1
        self._scheduled += 1
        root = parent.root if not copy else self.group.compose(copy, parent.root)
        return Record(time_ns, parent, copy, idx, root)

    def reserve(self) -> Record:
        """The place of a call made now, for an event filed later (``schedule_at``)."""
        return self._slot(-1)

    def mirror(self, slot: Record, npu: int) -> Record:
        """The same reservation made by NPU ``npu``'s relabelled copy of this call."""
        copy = self.group.compose(slot.copy, npu)
        return Record(-1, slot.parent, copy, slot.idx, self.group.compose(npu, slot.root))

    def current(self) -> tuple[Record, int, tuple[int, int] | None]:
        return self._parent, self._copy, self._sub

    # -- scheduling -----------------------------------------------------------------------
    def schedule(self, delay_ns: int, handler: Handler, arg: Any = None) -> None:
        if delay_ns < 0:
            raise ValueError(f"cannot schedule into the past (delay {delay_ns} ns)")
        time_ns = self.now_ns + delay_ns
        self._file(time_ns, (self._slot(time_ns), 0, handler, arg, None))

    def schedule_at(self, time_ns: int, slot: Record, handler: Handler, arg: Any = None) -> None:
        if time_ns < self.now_ns:
            raise ValueError(f"event at {time_ns} ns is in the past (now {self.now_ns} ns)")
        slot.time = time_ns
        self._file(time_ns, (slot, 0, handler, arg, None))

    def barrier_point(self) -> int:
        """Mark a phase-barrier arrival in the current event: releases done at this point
        come after the children scheduled so far and before the ones scheduled later."""
        point = self._major
        self._major += 1
        return point

    def continue_as(self, record: Record, copy: int, sub: tuple[int, int], handler: Handler,
                    arg: Any) -> None:
        """Run ``handler`` now, at the point of event ``record`` at NPU ``copy`` given by
        ``sub`` (a barrier release done by another NPU on behalf of NPU 0)."""
        self._file(self.now_ns, (record, copy, handler, arg, sub))

    def run_as(self, sub: tuple[int, int], handler: Handler, arg: Any) -> None:
        """Run ``handler`` at once, its scheduling placed at ``sub`` in the current event."""
        saved = self._sub, self._minor
        self._sub, self._minor = sub, 0
        try:
            handler(arg)
        finally:
            self._sub, self._minor = saved

    def _file(self, time_ns: int, entry: Entry) -> None:
        bucket = self._buckets.get(time_ns)
        if bucket is None:
            self._buckets[time_ns] = [entry]
            heapq.heappush(self._times, time_ns)
            return
        group = self.group
        record, copy = entry[0], entry[1]
        lowest = self._walking + 1 if time_ns == self.now_ns and self._walking >= 0 else 0
        index = len(bucket)
        while index > lowest:
            other = bucket[index - 1]
            if not precedes(record, copy, other[0], other[1], group):
                break
            index -= 1
        if index == lowest and lowest and precedes(record, copy, bucket[lowest - 1][0],
                                                   bucket[lowest - 1][1], group):
            raise SymmetryBroken(f"an event at {time_ns} ns would run before one already run")
        bucket.insert(index, entry)

    # -- the loop -------------------------------------------------------------------------
    @property
    def events_scheduled(self) -> int:
        return self._scheduled

    def pending(self) -> bool:
        return bool(self._times)

    def next_time(self) -> int | None:
        return self._times[0] if self._times else None

    def run(self) -> None:
        times = self._times
        buckets = self._buckets
        processed = 0
        while True:
            if self.on_horizon is not None and (not times or times[0] >= self.horizon_ns):
                self.on_horizon(times[0] if times else NEVER)
                if times and times[0] >= self.horizon_ns:
                    raise RuntimeError("synchronisation did not advance the horizon")
            if not times:
                break
            time_ns = heapq.heappop(times)
            self.now_ns = time_ns
            bucket = buckets[time_ns]
            index = 0
            while index < len(bucket):
                record, copy, handler, arg, sub = bucket[index]
                self._walking = index
                self._parent, self._copy, self._sub = record, copy, sub
                self._major = self._minor = 0
                handler(arg)
                index += 1
            processed += index
            self._walking = -1
            del buckets[time_ns]
        self.events_processed += processed
