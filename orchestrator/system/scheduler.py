"""Per-dimension queues of one NPU and the active-chunks limit (SEMANTICS §4.2 item 4).

Each queue holds its streams in order: running ones first, then waiting ones by descending
priority, FIFO among equals. At most ``limit`` streams run per queue (``active-chunks-per-
dimension``); when one leaves, the next waiting one starts in the same tick.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.system.streams import Stream


class QueueSet:
    __slots__ = ("queues", "running", "limit", "_start")

    def __init__(self, count: int, limit: int, start: Callable[[Stream], None]) -> None:
        self.queues: list[list[Stream]] = [[] for _ in range(count)]
        self.running = [0] * count
        self.limit = limit
        self._start = start

    def insert(self, queue: int, stream: Stream) -> None:
        """Place a waiting stream after running ones and ones of equal or higher priority."""
        entries = self.queues[queue]
        position = len(entries)
        for index, other in enumerate(entries):
            if not other.initialized and other.priority < stream.priority:
                position = index
                break
        entries.insert(position, stream)

    def remove(self, queue: int, stream: Stream) -> None:
        self.queues[queue].remove(stream)

    def stream_added(self, queue: int) -> None:
        self._fill(queue)

    def stream_removed(self, queue: int) -> None:
        self.running[queue] -= 1
        self._fill(queue)

    def _fill(self, queue: int) -> None:
        entries = self.queues[queue]
        position = self.running[queue]
        while position < len(entries) and self.running[queue] < self.limit:
            self.running[queue] += 1
            self._start(entries[position])
            position += 1

    def waiting(self) -> list[Stream]:
        return [s for entries in self.queues for s in entries]
