"""1.0's phase barrier in a reduced run.

In the full run every NPU finishes phase p of chunk k in its copy of the same event, at the
same nanosecond; the last of them (the copy latest in the full order) releases the others in
the order they arrived, then moves on itself — all inside its own event (system/barrier.py).
So NPU 0's chunk moves on at the point of that event given by NPU 0's rank among the
arrivals: at once when NPU 0 is the last, otherwise as a continuation sorted where the last
NPU's event runs (``OrbitEventQueue.continue_as``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.symmetry.order import SymmetryBroken
from orchestrator.symmetry.queue import OrbitEventQueue

if TYPE_CHECKING:
    from orchestrator.system.npu import Npu
    from orchestrator.system.streams import Stream


class OrbitBarrier:
    __slots__ = ("queue", "group", "_last_id")

    def __init__(self, queue: OrbitEventQueue) -> None:
        self.queue = queue
        self.group = queue.group
        self._last_id = queue.group.npus_count - 1

    def arrive(self, npu: Npu, stream: Stream) -> None:
        """Arrange NPU 0's release; returns None (nothing for the caller to release)."""
        record, copy, sub = self.queue.current()
        if copy or sub is not None:
            raise SymmetryBroken("a phase ended inside another NPU's barrier release")
        group = self.group
        # the copy at NPU x descends from NPU x ⊕ root's start: arrivals are ordered by that
        rank = record.root
        last = group.compose(self._last_id, group.inverse(record.root))
        point = self.queue.barrier_point()
        if last == 0:
            self.queue.run_as((point, 1 + rank), npu._advance, stream)
        else:
            self.queue.continue_as(record, last, (point, 1 + rank), npu._advance, stream)
        return None

    def waiting(self) -> dict[int, int]:
        return {}
