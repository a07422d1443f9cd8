"""``--num-queues-per-dim``: which of a dimension's queues a phase joins (1.0's QueueLevels).

With N queues per dimension, dimension d owns queues d·N … d·N+N−1. Each NPU hands them out in
turn as it plans phases, chunk after chunk, per dimension; a phase in the second half of the
dimension's queues (allocator ≥ N/2, N > 1) runs its ring anticlockwise. Each queue runs at
most ceil(active-chunks-per-dimension / N) chunks at once. With N = 1 (the default) nothing
here is used: every phase of dimension d joins queue d, clockwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator.system.streams import Phase


def chunks_per_queue(active_chunks: int, queues_per_dim: int) -> int:
    """1.0's ``concurrent_streams``: the active-chunks limit of one queue."""
    return -(-active_chunks // queues_per_dim)


class QueueLevels:
    """One NPU's round-robin over the queues of each dimension."""

    __slots__ = ("per_dim", "_next")

    def __init__(self, dims: int, per_dim: int) -> None:
        self.per_dim = per_dim
        self._next = [0] * dims

    def assign(self, phases: Iterable[Phase]) -> None:
        """Give each phase, in order, its dimension's next queue and ring direction."""
        per_dim = self.per_dim
        for phase in phases:
            turn = self._next[phase.dim]
            phase.queue = phase.dim * per_dim + turn
            phase.direction = -1 if per_dim > 1 and turn >= per_dim // 2 else 1
            self._next[phase.dim] = (turn + 1) % per_dim
