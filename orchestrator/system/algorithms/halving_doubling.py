"""``halvingDoubling``: recursive halving then doubling (SEMANTICS §4.4). Power-of-two N only.

All-reduce: messages C/2, C/4, ..., C/N to partners at ring distance 1, 2, ..., N/2, then back
up C/N, ..., C/2 at N/2, ..., 1; the halving half reduces. Reduce-scatter is the halving half;
all-gather the doubling half starting at distance N/2 with C, 2C, ... The partner at distance
k is ``index XOR k``. No all-to-all (upstream exits).
"""

from __future__ import annotations

from orchestrator.system.algorithms.base import (
    ALL_GATHER, ALL_REDUCE, REDUCE_SCATTER, PacketAlgorithm, algorithms)


@algorithms.register("halvingDoubling", summary="recursive halving-doubling (power-of-two sizes)")
class HalvingDoubling(PacketAlgorithm):
    supports = (ALL_REDUCE, REDUCE_SCATTER, ALL_GATHER)

    def __init__(self, npu, stream, phase):
        super().__init__(npu, stream, phase)
        n, size = self.ring.size, self.size_bytes
        steps = n.bit_length() - 1
        if self.kind == ALL_REDUCE:
            self.sends_left, self.msg_size, self._distance = 2 * steps, size // 2, 1
            self._doubling = True
        elif self.kind == REDUCE_SCATTER:
            self.sends_left, self.msg_size, self._distance = steps, size // 2, 1
            self._doubling = True
        else:
            self.sends_left, self.msg_size, self._distance = steps, size, n // 2
            self._doubling = False
        self._steps = steps

    def nonzero_packets(self) -> int:
        return self._steps - 1

    def next_packet(self) -> tuple[int, int, int]:
        me = self._me
        if self._distance == 0:
            packet = me, me, self.msg_size        # upstream's last insert points at itself
        else:
            index = self.ring.index(me)
            offset = self._distance if (index // self._distance) % 2 == 0 else -self._distance
            partner = self.ring.peer(me, offset)
            packet = partner, partner, self.msg_size
        self._advance_peer()
        return packet

    def _advance_peer(self) -> None:
        """The next packet's distance and size."""
        if self._doubling:
            self._distance *= 2
            self.msg_size //= 2
            if self.kind == ALL_REDUCE and self._distance == self.ring.size:
                self._doubling = False           # turn round: undo the last halving
                self._distance //= 2
                self.msg_size *= 2
        else:
            self._distance //= 2
            self.msg_size *= 2
