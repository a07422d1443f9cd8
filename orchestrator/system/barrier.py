"""1.0's phase barrier across NPUs (the ``declare_ready`` / suspend / resume machinery).

When an NPU finishes a phase of stream k, the stream moves on only once *every* NPU has
finished that phase of stream k; early finishers keep their queue slot meanwhile. The last
finisher releases the others in the order they arrived, then moves on itself, all in the same
tick. Symmetric algorithms never notice; the double binary tree's early leaves wait for the
slowest node. (ASTRA-sim 2.x has no such barrier.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.system.npu import Npu
    from orchestrator.system.streams import Stream


class PhaseBarrier:
    __slots__ = ("npus_count", "_arrived", "_suspended")

    def __init__(self, npus_count: int) -> None:
        self.npus_count = npus_count
        self._arrived: dict[int, int] = {}
        self._suspended: dict[int, list[tuple[Npu, Stream]]] = {}

    def arrive(self, npu: Npu, stream: Stream) -> list[tuple[Npu, Stream]] | None:
        """None: wait. Otherwise the suspended (npu, stream) pairs to release, in order."""
        count = self._arrived.get(stream.num, 0) + 1
        if count < self.npus_count:
            self._arrived[stream.num] = count
            self._suspended.setdefault(stream.num, []).append((npu, stream))
            return None
        self._arrived.pop(stream.num, None)
        return self._suspended.pop(stream.num, [])

    def waiting(self) -> dict[int, int]:
        """Stream number -> NPUs that have arrived (for reporting stalls)."""
        return dict(self._arrived)
