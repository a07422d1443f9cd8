"""The network port of a reduced run: NPU 0's sends, and the relabelled copies that reach it.

When NPU 0 sends to NPU d, every NPU x sends to x ⊕ d at the same moment in the full run; the
copy that arrives at NPU 0 comes from NPU ⊖d. So each send of NPU 0 is injected twice — NPU 0's
own message (its arrival may run NPU 0's send handler) and the mirror from ⊖d, which NPU 0's
receives match on ASTRA-sim's ``(tag, src, dst, bytes)`` rule. The two arrivals must be equally
far away; a network for which they are not is not symmetric and the run is redone in full.

Which slot a receive's handler runs in follows the full port (SEMANTICS §5.1): for 1.0 the
sender's when the receive was posted before the send, else the receive's own; the comparison
between NPU 0's receive and the mirror's send uses the full run's order (``order.py``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from orchestrator.cosim.port import Handler, NetworkPort, RoundClient
from orchestrator.symmetry.order import Record, SymmetryBroken, action_precedes
from orchestrator.symmetry.queue import OrbitEventQueue

REPRESENTATIVE = 0


class _Mirror:
    """A message reaching NPU 0: a relabelled copy of one of its sends (or a send to itself)."""

    __slots__ = ("slot", "recv", "recv_arg", "use", "post_ns", "arrival", "arrived")

    def __init__(self, slot: Record) -> None:
        self.slot = slot              # the sender's reservation, relabelled
        self.recv: Handler | None = None
        self.recv_arg: Any = None
        self.use: Record | None = None     # 1.0: the slot the receive handler runs in
        self.post_ns = 0
        self.arrival = -1
        self.arrived = False


class MirrorPort(NetworkPort):
    """``NetworkPort`` for a reduced run; see the module docstring."""

    def __init__(self, clock: OrbitEventQueue, client: RoundClient, lookahead_ns: int,
                 npus_count: int, semantics: str, decides_at_injection: bool) -> None:
        if lookahead_ns < 1:
            raise SymmetryBroken("a network without lookahead is synchronised per send")
        super().__init__(clock, client, lookahead_ns, npus_count, semantics,  # type: ignore[arg-type]
                         decides_at_injection)
        self.group = clock.group
        self.own_messages = 0
        self._own: dict[int, tuple[Record, Handler | None, Any, int]] = {}
        self._mirrors: dict[int, tuple[_Mirror, int]] = {}
        self._arrivals: dict[int, int] = {}       # own op -> arrival, until its mirror's is known
        self._unreceived_m: dict[tuple[int, int, int, int], deque[_Mirror]] = {}
        self._early_m: dict[tuple[int, int, int, int], deque[tuple[Handler, Any, Record, int]]] = {}

    # -- sending ----------------------------------------------------------------------------
    def _inject(self, src: int, dst: int, size_bytes: int, now: int) -> int:
        op = self._next_op
        self._next_op = op + 1
        self._injections.append((op, src, dst, size_bytes, now))
        return op

    def send(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler | None, arg: Any) -> None:
        if src != REPRESENTATIVE:
            raise SymmetryBroken(f"NPU {src} sends in a reduced run")
        clock = self.clock
        now = clock.now_ns
        slot = clock.reserve()
        self.bytes_sent[REPRESENTATIVE] += size_bytes
        self.own_messages += 1
        self.messages += 1
        if dst == REPRESENTATIVE:         # a message to itself is its own mirror
            mirror = _Mirror(slot)
            own_op = self._inject(src, dst, size_bytes, now)
            self._own[own_op] = (slot, handler, arg, -1)
            self._mirrors[own_op] = (mirror, -1)
            self._match_send((tag, src, dst, size_bytes), mirror)
        else:
            sender = self.group.inverse(dst)
            mirror = _Mirror(clock.mirror(slot, sender))
            own_op = self._inject(src, dst, size_bytes, now)
            mirror_op = self._inject(sender, REPRESENTATIVE, size_bytes, now)
            self._own[own_op] = (slot, handler, arg, mirror_op)
            self._mirrors[mirror_op] = (mirror, own_op)
            self._match_send((tag, sender, REPRESENTATIVE, size_bytes), mirror)
        horizon = now + self.lookahead_ns
        if horizon < clock.horizon_ns:
            clock.horizon_ns = horizon

    def _match_send(self, key: tuple[int, int, int, int], mirror: _Mirror) -> None:
        early = self._early_m.get(key)
        if early:
            handler, arg, post_slot, post_ns = early.popleft()
            if not early:
                del self._early_m[key]
            self._pair(mirror, handler, arg, post_slot, post_ns)
            return
        self._unreceived_m.setdefault(key, deque()).append(mirror)

    # -- receiving --------------------------------------------------------------------------
    def recv(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler, arg: Any) -> None:
        if dst != REPRESENTATIVE:
            raise SymmetryBroken(f"NPU {dst} receives in a reduced run")
        clock = self.clock
        post_slot = clock.reserve()
        key = (tag, src, dst, size_bytes)
        waiting = self._unreceived_m.get(key)
        if not waiting:
            self._early_m.setdefault(key, deque()).append((handler, arg, post_slot,
                                                           clock.now_ns))
            return
        mirror = waiting.popleft()
        if not waiting:
            del self._unreceived_m[key]
        self._pair(mirror, handler, arg, post_slot, clock.now_ns)

    def _pair(self, mirror: _Mirror, handler: Handler, arg: Any, post_slot: Record,
              post_ns: int) -> None:
        """A receive of NPU 0 meets its message: decide where its handler runs."""
        clock = self.clock
        if self.v2:
            if mirror.arrived:
                clock.schedule(0, handler, arg)
            else:
                mirror.recv, mirror.recv_arg = handler, arg
            return
        mirror.recv, mirror.recv_arg = handler, arg
        before_send = action_precedes(post_slot, mirror.slot, self.group)
        mirror.use = mirror.slot if before_send else post_slot
        mirror.post_ns = post_ns
        if mirror.arrival >= 0:
            self._file_v1(mirror)

    def _file_v1(self, mirror: _Mirror) -> None:
        use = mirror.use
        time_ns = mirror.arrival if use is mirror.slot else max(mirror.arrival, mirror.post_ns)
        self.clock.schedule_at(time_ns, use, mirror.recv, mirror.recv_arg)

    # -- arrivals ---------------------------------------------------------------------------
    def _arrival(self, op: int, time_ns: int) -> None:
        clock = self.clock
        own = self._own.pop(op, None)
        if own is not None:
            slot, handler, arg, mirror_op = own
            if mirror_op >= 0:
                self._check(op, mirror_op, time_ns)
            if handler is not None:
                clock.schedule_at(time_ns, slot, handler, arg)
            if mirror_op >= 0:
                return
        mirror, own_op = self._mirrors.pop(op)
        if own_op >= 0:
            self._check(own_op, op, time_ns)
        mirror.arrival = time_ns
        if self.v2:
            clock.schedule_at(time_ns, mirror.slot, self._arrive_mirror_v2, mirror)
        elif mirror.use is not None:
            self._file_v1(mirror)

    def _check(self, own_op: int, mirror_op: int, time_ns: int) -> None:
        """The own message and its mirror left together; they must arrive together."""
        key = min(own_op, mirror_op)
        other = self._arrivals.pop(key, None)
        if other is None:
            self._arrivals[key] = time_ns
        elif other != time_ns:
            raise SymmetryBroken(f"a message and its relabelled copy arrive at {other} and "
                                 f"{time_ns} ns: the network is not symmetric")

    def _arrive_mirror_v2(self, mirror: _Mirror) -> None:
        if mirror.recv is not None:
            mirror.recv(mirror.recv_arg)
        else:
            mirror.arrived = True

    def unmatched(self) -> int:
        return sum(map(len, self._unreceived_m.values())) + \
            sum(map(len, self._early_m.values()))
