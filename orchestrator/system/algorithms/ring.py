"""``ring``: neighbour exchange around the dimension's ring (SEMANTICS §4.4).

Per NPU: all-reduce sends 2(N-1) messages of C/N (the first N-1 receives reduce);
reduce-scatter N-1 of C/N (every receive reduces); all-gather N-1 of C; all-to-all
N(N-1)/2 of C/N relayed to the next neighbour. One packet in flight; the queue's direction
chooses the neighbour (sends go one way round, receives come from the other side). Closed form (all-reduce): E + 2(N-1)(d + E) + (N-1)·R.
"""

from __future__ import annotations

from orchestrator.system.algorithms.base import (
    ALL_GATHER, ALL_REDUCE, ALL_TO_ALL, REDUCE_SCATTER, PacketAlgorithm, algorithms)


@algorithms.register("ring", summary="neighbour exchange around the ring of each dimension")
class Ring(PacketAlgorithm):

    def __init__(self, npu, stream, phase):
        super().__init__(npu, stream, phase)
        n, size = self.ring.size, self.size_bytes
        if self.kind == ALL_REDUCE:
            self.sends_left, self.msg_size = 2 * (n - 1), size // n
        elif self.kind == REDUCE_SCATTER:
            self.sends_left, self.msg_size = n - 1, size // n
        elif self.kind == ALL_GATHER:
            self.sends_left, self.msg_size = n - 1, size
        elif self.kind == ALL_TO_ALL:
            self.sends_left, self.msg_size = n * (n - 1) // 2, size // n
        self._direction = phase.direction
        self._dst = self.ring.peer(npu.id, phase.direction)
        self._src = self.ring.peer(npu.id, -phase.direction)

    def nonzero_packets(self) -> int:
        return (self.ring.size - 1) * self.parallel

    def next_packet(self) -> tuple[int, int, int]:
        return self._dst, self._src, self.msg_size
