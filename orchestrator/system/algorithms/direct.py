"""``direct`` (``directW`` for a window of W): every NPU talks to every peer of the dimension.

Up to W (default N-1) messages in flight; peers are taken in ring order +1, +2, ...
Reduce-scatter, all-gather and all-to-all are one wave of N-1 messages (C/N, C, C/N bytes);
all-reduce adds a second wave of N-1 messages that starts only once all first-wave messages
have arrived. Closed form (all-reduce, symmetric network, W = N-1): 3E + 2d + R.
"""

from __future__ import annotations

from orchestrator.system.algorithms.base import ALL_REDUCE, ALL_TO_ALL, algorithms
from orchestrator.system.algorithms.ring import Ring


@algorithms.register("direct", summary="all-to-all exchange with a window (directW)")
class Direct(Ring):

    def __init__(self, npu, stream, phase):
        super().__init__(npu, stream, phase)
        peers = self.ring.size - 1
        window = phase.window
        self.parallel = peers if window <= 0 else min(window, peers)
        if self.kind == ALL_TO_ALL:
            self.sends_left = peers
        self._peers = peers
        self._step = 1           # ring distance of the next packet's peer

    def nonzero_packets(self) -> int:
        return self.parallel

    def next_packet(self) -> tuple[int, int, int]:
        ring, me, step = self.ring, self._me, self._step * self._direction
        self._step = self._step % self._peers + 1
        return ring.peer(me, step), ring.peer(me, -step), self.msg_size

    def general_step(self, _arg: object) -> None:
        self.free_packets += 1
        if self.kind == ALL_REDUCE and self.sends_left <= self._peers:
            # second wave: only once every first-wave message has arrived
            if self.received < self._peers:
                return
            for _ in range(self.parallel):
                self.ready()
        else:
            self.ready()
        self.iteratable()
