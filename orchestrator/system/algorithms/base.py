"""The collective-algorithm extension point: one NPU's state machine for one phase.

An algorithm instance is created per NPU, per stream (chunk), per phase. The engine calls
``start()`` when the stream becomes active in its queue (1.0's ``StreamInit``); the algorithm
sends and receives through ``npu.send`` / ``npu.recv``, charges its per-message costs through
``npu.register_event``, and calls ``npu.phase_finished(stream)`` exactly once when its part is
done. Subclasses implement ``start`` and may override ``output_size`` (the data size handed to
the next phase, known when phases are planned) and ``supports`` (the collectives they run).

``PacketAlgorithm`` is the machinery ring, direct and halving-doubling share (SEMANTICS §4.3,
§4.4): each "insert" queues one packet and releases it through the memory bus (``endpoint
delay``, plus the reduction cost when the packet carries data to reduce); every release ends
in a *general* step that may send the next queued packet; a receive triggers the next insert.
A packet that reduces nothing registers its general step for the end of the bus crossing
directly (1.0 runs it inside the release's callback, in the same tick: the same order).
Subclasses supply how many packets a round has, where each packet goes and its size.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, ClassVar

from orchestrator.registry import Registry

if TYPE_CHECKING:
    from orchestrator.system.npu import Npu
    from orchestrator.system.streams import Phase, Stream

algorithms: Registry[type[PhaseAlgorithm]] = Registry("algorithms",
                                                        "orchestrator.system.algorithms")

ALL_REDUCE = "ALLREDUCE"
REDUCE_SCATTER = "REDUCESCATTER"
ALL_GATHER = "ALLGATHER"
ALL_TO_ALL = "ALLTOALL"


class PhaseAlgorithm:
    """One NPU's part of one phase. See the module docstring for the contract."""

    supports: ClassVar[tuple[str, ...]] = (ALL_REDUCE, REDUCE_SCATTER, ALL_GATHER, ALL_TO_ALL)

    def __init__(self, npu: Npu, stream: Stream, phase: Phase) -> None:
        self.npu = npu
        self.stream = stream
        self.kind = phase.kind
        self.ring = phase.ring
        self.size_bytes = phase.size_bytes

    @staticmethod
    def output_size(kind: str, size_bytes: int, ring_size: int) -> int:
        """The data size this phase hands to the next one (reduce-scatter divides, all-gather
        multiplies, SEMANTICS §4.2)."""
        if kind == REDUCE_SCATTER:
            return size_bytes // ring_size
        if kind == ALL_GATHER:
            return size_bytes * ring_size
        return size_bytes

    def start(self) -> None:
        raise NotImplementedError


class PacketAlgorithm(PhaseAlgorithm):
    """Insert / release / send machinery shared by the ring family of algorithms."""

    parallel: int = 1          # packets in flight at once (direct's window)

    def __init__(self, npu: Npu, stream: Stream, phase: Phase) -> None:
        super().__init__(npu, stream, phase)
        self.sends_left = 0
        self.msg_size = 0
        self.free_packets = 0
        self.received = 0
        self._zero = 0
        self._nonzero = 0
        self._toggle = False
        self._packets: deque[tuple[int, int, int]] = deque()   # (dst, src, bytes)
        # Hot path (one pass per message): the NPU's methods and constants, bound once per
        # NPU (Npu.packet_hooks). The instance keeps none of its own bound methods: one would
        # make it a reference cycle, freed only by the cyclic collector (a phase each), where
        # binding at each use costs less than the collections.
        (self._register, self._reduction, self._endpoint_delay, self._net_send,
         self._net_recv, self._me) = npu.packet_hooks
        self._tag = stream.num
        self._reduces_always = self.kind == REDUCE_SCATTER
        self._reduces_first_round = self.kind == ALL_REDUCE

    # -- what subclasses decide --------------------------------------------------------
    def nonzero_packets(self) -> int:
        """Packets of a round that follow the first ``parallel`` ones."""
        raise NotImplementedError

    def next_packet(self) -> tuple[int, int, int]:
        """Destination, source and size of the packet being inserted; a subclass whose packets
        differ advances its per-packet state (peer, size) here."""
        raise NotImplementedError

    # -- shared machinery ----------------------------------------------------------------
    def start(self) -> None:
        for _ in range(self.parallel):
            self.insert_packet()

    def on_receive(self, _arg: object = None) -> None:
        self.received += 1
        self.insert_packet()

    def insert_packet(self) -> None:
        if self._zero == 0 and self._nonzero == 0:
            self._zero = self.parallel
            self._nonzero = self.nonzero_packets()
            self._toggle = not self._toggle
        packet = self.next_packet()
        self._packets.append(packet)
        if self._zero > 0:
            self._zero -= 1
        else:
            self._nonzero -= 1
            if self._reduces_always or (self._reduces_first_round and self._toggle):
                # The bundle crosses the memory bus, then pays the reduction.
                self._register(self._endpoint_delay, self.after_bus, packet[2])
                return
        # The bundle crosses the memory bus; the general step follows at once.
        self._register(self._endpoint_delay, self.general_step, None)

    def after_bus(self, reduced_bytes: int) -> None:
        self._register(self._reduction(reduced_bytes), self.general_step, None)

    def general_step(self, _arg: object) -> None:
        """A packet has cleared the bus: send what may be sent, and finish the phase once
        everything is sent and no packet is in flight."""
        self.free_packets += 1
        self.ready()
        self.iteratable()

    def ready(self) -> None:
        if self._packets and self.sends_left > 0 and self.free_packets > 0:
            dst, src, size = self._packets.popleft()
            me, tag = self._me, self._tag
            # 1.0's send-completion handler does nothing, so none is given.
            self._net_send(me, dst, size, tag, None, None)
            self._net_recv(src, me, size, tag, self.on_receive, None)
            self.sends_left -= 1
            self.free_packets -= 1

    def iteratable(self) -> None:
        if self.sends_left == 0 and self.free_packets == self.parallel:
            self.npu.phase_finished(self.stream)
