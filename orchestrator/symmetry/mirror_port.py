"""The network port of a reduced run: NPU 0's sends, and the relabelled copies that reach it.

When NPU 0 sends to NPU d, every NPU x sends to x ⊕ d at the same moment in the full run; the
copy that arrives at NPU 0 comes from NPU ⊖d. So each send of NPU 0 is injected twice — NPU 0's
own message (its arrival runs NPU 0's send handler, if any) and the mirror from ⊖d, which NPU
0's receives match on ASTRA-sim's ``(tag, src, dst, bytes)`` rule. The two must take equally
long; a network for which they do not is not symmetric and the run is redone in full.

A receive's handler runs at the arrival, or when it is posted if that is later (SEMANTICS
§5.1), in the slot the full run gives it: the sequence number reserved when the receive was
posted while the message was in flight, else the one its send reserved (``NetworkPort``). So
a receive runs before work NPU 0 scheduled for that nanosecond after posting it, as in the
full run. Where within a nanosecond the full run would run it relative to other NPUs' events
of that nanosecond (the mirror's sender sends in NPU 0's nanosecond, not in its event) is
unknown; ``guard.py`` makes sure that never matters.
"""

from __future__ import annotations

from typing import Any

from orchestrator.cosim.port import Handler, NetworkPort, RoundClient
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import AstraCosimError
from orchestrator.symmetry.group import OrbitGroup
from orchestrator.symmetry.guard import BROKEN_MARK, SymmetryBroken
from orchestrator.symmetry.representative import natural_actor

REPRESENTATIVE = 0


class _Mirror:
    """One send of NPU 0: its own message and the mirror reaching NPU 0 (the relabelled copy
    of the send, or the send itself when NPU 0 sends to itself or the model keeps orbits).
    Both injections' ops lead here."""

    __slots__ = ("recv", "recv_arg", "arrival", "arrived", "sent_ns", "send", "send_arg",
                 "own_op", "mirror_op", "first_arrival", "own_seq", "seq", "recv_seq")

    def __init__(self, sent_ns: int, send: Handler | None, send_arg: Any, own_op: int,
                 mirror_op: int, own_seq: int, seq: int) -> None:
        self.sent_ns = sent_ns
        self.send = send              # NPU 0's send handler, run at its own message's arrival
        self.send_arg = send_arg
        self.own_op = own_op
        self.mirror_op = mirror_op
        self.own_seq = own_seq        # the slot NPU 0's send reserved
        self.seq = seq                # the slot the mirror's send reserved
        self.recv_seq = -1            # reserved by a receive posted while it is in flight
        self.first_arrival = -1       # two injections: the first one's arrival, to compare
        self.recv: Handler | None = None
        self.recv_arg: Any = None
        self.arrival = -1             # the mirror's arrival time, -1 until the adapter says
        self.arrived = False          # its arrival has run (v2) or passed (v1)


class MirrorPort(NetworkPort):
    """``NetworkPort`` for a reduced run; see the module docstring."""

    group: OrbitGroup | None = None   # set by the runner before the first send
    own_only = False                  # the model keeps orbits: inject NPU 0's messages only

    def __init__(self, clock: EventQueue, client: RoundClient, lookahead_ns: int,
                 npus_count: int, semantics: str, decides_at_injection: bool) -> None:
        if lookahead_ns < 1:
            raise SymmetryBroken("a network without lookahead is synchronised at every send")
        super().__init__(clock, client, lookahead_ns, npus_count, semantics,
                         decides_at_injection)
        self.own_messages = 0
        # per logical dimension of the destination: messages and bytes (1.0's boost mode runs
        # a dimension's phases only on the NPUs of NPU 0's axis, so counts scale per dimension)
        self.own_by_dim: dict[int, list[int]] = {}
        self._peers: dict[int, tuple[list[int], int]] = {}
        self._sent: dict[int, _Mirror] = {}       # by op of either injection, until it arrives
        # FIFO per ASTRA-sim's key, in short plain lists as in NetworkPort
        self._unreceived_m: dict[tuple[int, int, int, int], list[_Mirror]] = {}
        self._early_m: dict[tuple[int, int, int, int], list[tuple[Handler, Any]]] = {}
        self._arrive_m = self._arrive
        self._guard = clock.guard

    # -- sending ----------------------------------------------------------------------------
    def _dimension(self, npu: int) -> int:
        """The lowest dimension in which ``npu`` differs from NPU 0 (-1 for NPU 0 itself)."""
        for dim, (size, stride) in enumerate(zip(self.group.sizes, self.group.strides)):
            if (npu // stride) % size:
                return dim
        return -1

    def _peer(self, dst: int) -> tuple[list[int], int]:
        """Per destination, once: its dimension's message counts and the NPU whose mirror
        reaches NPU 0 (the relabelled sender)."""
        peer = self._peers.get(dst)
        if peer is None:
            counts = self.own_by_dim.setdefault(self._dimension(dst), [0, 0])
            peer = self._peers[dst] = (counts, self.group.inverse(dst))
        return peer

    def send(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler | None, arg: Any) -> None:
        if src != REPRESENTATIVE:
            raise SymmetryBroken(f"NPU {src} sends in a reduced run")
        clock = self.clock
        now = clock.now_ns
        self.bytes_sent[REPRESENTATIVE] += size_bytes
        self.own_messages += 1
        self.messages += 1
        peer = self._peers.get(dst)
        counts, sender = peer if peer is not None else self._peer(dst)
        counts[0] += 1
        counts[1] += size_bytes
        own_op = self._next_op
        injections = self._injections
        injections.append((own_op, src, dst, size_bytes, now))
        # a message to itself is its own mirror; a model keeping orbits delivers the mirror
        # when the own message arrives
        if dst == REPRESENTATIVE or self.own_only:
            mirror_op = own_op
        else:
            mirror_op = own_op + 1
            injections.append((mirror_op, sender, REPRESENTATIVE, size_bytes, now))
        self._next_op = mirror_op + 1
        own_seq = clock.reserve()
        # the mirror's sender sends in this nanosecond too; a message to itself is one send
        mirror = _Mirror(now, handler, arg, own_op, mirror_op, own_seq,
                         own_seq if dst == REPRESENTATIVE else clock.reserve())
        sent = self._sent
        sent[own_op] = mirror
        sent[mirror_op] = mirror
        key = (tag, sender, REPRESENTATIVE, size_bytes)
        early = self._early_m.get(key)
        if early:
            mirror.recv, mirror.recv_arg = early.pop(0)
            if not early:
                del self._early_m[key]
        else:
            waiting = self._unreceived_m.get(key)
            if waiting is None:
                self._unreceived_m[key] = [mirror]
            else:
                waiting.append(mirror)
        horizon = now + self.lookahead_ns
        if horizon < clock.horizon_ns:
            clock.horizon_ns = horizon

    # -- receiving --------------------------------------------------------------------------
    def recv(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler, arg: Any) -> None:
        if dst != REPRESENTATIVE:
            raise SymmetryBroken(f"NPU {dst} receives in a reduced run")
        key = (tag, src, dst, size_bytes)
        waiting = self._unreceived_m.get(key)
        if not waiting:
            early = self._early_m.get(key)
            if early is None:
                self._early_m[key] = [(handler, arg)]
            else:
                early.append((handler, arg))
            return
        mirror = waiting.pop(0)
        if not waiting:
            del self._unreceived_m[key]
        clock = self.clock
        if mirror.arrived:
            clock.schedule(0, handler, arg)
        elif mirror.arrival >= 0 and not self.v2:
            clock.schedule(mirror.arrival - clock.now_ns, handler, arg)
        else:
            mirror.recv, mirror.recv_arg = handler, arg
            if not self.v2:
                mirror.recv_seq = clock.reserve()

    # -- arrivals ---------------------------------------------------------------------------
    def synchronise(self, next_local_ns: int) -> None:
        """A round; a model out of process that refuses the reduction answers with an error
        carrying ``BROKEN_MARK``, which ends this reduced run like any ``SymmetryBroken``."""
        try:
            super().synchronise(next_local_ns)
        except AstraCosimError as exc:        # the adapter's error, as the transport words it
            text = str(exc)
            if BROKEN_MARK not in text:
                raise
            raise SymmetryBroken(text[text.index(BROKEN_MARK) + len(BROKEN_MARK):].strip()) \
                from None

    def _arrival(self, op: int, time_ns: int) -> None:
        mirror = self._sent.pop(op)
        clock = self.clock
        own_op, mirror_op = mirror.own_op, mirror.mirror_op
        if own_op != mirror_op:
            # a message and its mirror left together; they must arrive together
            first = mirror.first_arrival
            if first < 0:
                mirror.first_arrival = time_ns
            elif first != time_ns:
                raise SymmetryBroken(f"a message and its relabelled copy arrive at {first} "
                                     f"and {time_ns} ns: the network is not symmetric")
        if op == own_op:
            if mirror.send is not None:
                clock.schedule_at(time_ns, mirror.own_seq, mirror.send, mirror.send_arg)
            if op != mirror_op:
                return
        mirror.arrival = time_ns
        slot = mirror.recv_seq if mirror.recv_seq >= 0 else mirror.seq
        clock.schedule_at(time_ns, slot, self._arrive_m, mirror)

    def _arrive(self, mirror: _Mirror) -> None:
        if mirror.recv is not None:
            guard = self._guard
            guard.actor = natural_actor(mirror.recv, mirror.recv_arg)
            guard.stamp(2, mirror.sent_ns)
            mirror.recv(mirror.recv_arg)
        else:
            mirror.arrived = True

    def unmatched(self) -> int:
        return sum(map(len, self._unreceived_m.values())) + \
            sum(map(len, self._early_m.values()))
