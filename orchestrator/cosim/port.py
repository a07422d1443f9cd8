"""The engine's network port: ASTRA-sim's send/recv semantics over a network adapter.

The system layer calls ``send`` and ``recv`` as it would call upstream's network API. The port
matches them on ``(tag, src, dst, bytes)`` (the k-th send meets the k-th receive) and asks the
adapter only when each message arrives. Arrivals come back in synchronisation rounds
(docs/cosim.md); each is filed in the event queue under the sequence number reserved when
its message was sent, so an arrival runs exactly where it would have run had its time been
known at once, whatever the adapter's placement.

Two generations of handler timing (SEMANTICS §5.1):

* ``v1``: a receive posted before its message was sent completes at the arrival, in the
  sender's slot; one posted later completes at the arrival in its own slot, or at once (later
  in the same ns) if the message has already arrived.
* ``v2``: at the arrival the send handler runs, then the receive handler if it is posted; a
  receive posted after the arrival completes later in the same ns.
"""

from __future__ import annotations

from typing import Any, Protocol

from adapters.base import NEVER
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import AstraCosimError

Handler = Any     # Callable[[Any], None]


class RoundClient(Protocol):
    """Carries one synchronisation round to an adapter (in-process call or ZeroMQ)."""

    name: str

    def round(self, grant_ns: int, injections: list[tuple[int, int, int, int, int]]
              ) -> tuple[list[tuple[int, int]], int]:
        """Send injections (op, src, dst, bytes, time) and the grant; get arrivals (op,
        time) and the adapter's next event time."""

    def check(self) -> None:
        """Raise if the adapter is lost (between rounds)."""

    def close(self) -> None: ...


class _Message:
    __slots__ = ("seq", "send", "send_arg", "recv", "recv_arg", "recv_seq", "arrival",
                 "arrived")

    def __init__(self, seq: int, send: Handler | None, send_arg: Any) -> None:
        self.seq = seq
        self.send = send
        self.send_arg = send_arg
        self.recv: Handler | None = None
        self.recv_arg: Any = None
        self.recv_seq = -1            # v1: the slot of a receive posted after the send
        self.arrival = -1             # known arrival time, -1 until the adapter says
        self.arrived = False          # v2: the arrival event has run


class NetworkPort:
    """Engine side of one network adapter; implements the system layer's network API."""

    def __init__(self, clock: EventQueue, client: RoundClient, lookahead_ns: int,
                 npus_count: int, semantics: str, decides_at_injection: bool) -> None:
        # Without lookahead (a delivery may take 0 ns) a model that decides each arrival when
        # the message is injected is asked at every send instead; one with internal dynamics
        # would need a round per event.
        self.eager = lookahead_ns < 1
        if self.eager and not decides_at_injection:
            raise AstraCosimError("the network's smallest delivery delay is 0 ns, so there is "
                                  "no lookahead to synchronise the congestion-aware model on; "
                                  "give every dimension a latency of at least 1 ns")
        if semantics not in ("v1", "v2"):
            raise ValueError(semantics)
        self.clock = clock
        self.client = client
        self.lookahead_ns = lookahead_ns
        self.v2 = semantics == "v2"
        self.bytes_sent = [0] * npus_count
        self.messages = 0
        self.rounds = 0
        self._next_op = 0
        self._messages: dict[int, _Message] = {}
        self._injections: list[tuple[int, int, int, int, int]] = []
        self._adapter_next = NEVER
        # FIFO per (tag, src, dst, bytes); plain lists: a key is one chunk's messages between
        # two NPUs, so the lists stay short, and most live for one message (cheaper than deques)
        self._unreceived: dict[tuple[int, int, int, int], list[_Message]] = {}
        self._early_recvs: dict[tuple[int, int, int, int], list[tuple[Handler, Any]]] = {}
        self._arrive_v2 = self.arrive_v2
        # a pure network's delays by (src, dst, bytes), learnt from its replies; None when the
        # model is not pure (reuse_delays)
        self._delays: dict[tuple[int, int, int], int] | None = None
        self.asked_messages = 0       # injections sent to the adapter
        self.reused_messages = 0      # answered from _delays, never sent to the adapter
        self.reused_bytes = 0
        clock.on_horizon = self.synchronise
        clock.horizon_ns = NEVER

    # -- the network API the system layer uses ------------------------------------------------
    def send(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler | None, arg: Any) -> None:
        clock = self.clock
        message = _Message(clock.reserve(), handler, arg)
        key = (tag, src, dst, size_bytes)
        early = self._early_recvs.get(key)
        if early:
            message.recv, message.recv_arg = early.pop(0)
            if not early:
                del self._early_recvs[key]
        else:
            waiting = self._unreceived.get(key)
            if waiting is None:
                self._unreceived[key] = [message]
            else:
                waiting.append(message)
        op = self._next_op
        self._next_op = op + 1
        self._messages[op] = message
        now = clock.now_ns
        self._injections.append((op, src, dst, size_bytes, now))
        self.bytes_sent[src] += size_bytes
        self.messages += 1
        if self.eager:
            self.synchronise(now)
            return
        horizon = now + self.lookahead_ns
        if horizon < clock.horizon_ns:
            clock.horizon_ns = horizon

    def recv(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler, arg: Any) -> None:
        key = (tag, src, dst, size_bytes)
        waiting = self._unreceived.get(key)
        if not waiting:
            early = self._early_recvs.get(key)
            if early is None:
                self._early_recvs[key] = [(handler, arg)]
            else:
                early.append((handler, arg))
            return
        message = waiting.pop(0)
        if not waiting:
            del self._unreceived[key]
        clock = self.clock
        if self.v2:
            if message.arrived:
                clock.schedule(0, handler, arg)
            else:
                message.recv, message.recv_arg = handler, arg
        elif message.arrival >= 0:
            clock.schedule(max(message.arrival - clock.now_ns, 0), handler, arg)
        else:
            message.recv, message.recv_arg = handler, arg
            message.recv_seq = clock.reserve()

    # -- synchronisation ----------------------------------------------------------------------
    def reuse_delays(self) -> None:
        """The model is pure (a delay depends on src, dst and bytes alone, decided at
        injection): ask it once per distinct message shape and reuse its answer after."""
        self._delays = {}

    def synchronise(self, next_local_ns: int) -> None:
        """One round: hand over the injections, grant the adapter up to the engine's next
        event, file the arrivals it decided, and move the horizon past that event."""
        injections, self._injections = self._injections, []
        if self._delays is not None and injections:
            self._synchronise_pure(next_local_ns, injections)
            return
        if not injections and self._adapter_next >= next_local_ns:
            # nothing new for the adapter, and it has nothing due before the engine's next event
            self.clock.horizon_ns = self._adapter_next + self.lookahead_ns \
                if self._adapter_next < NEVER else NEVER
            return
        arrivals, self._adapter_next = self.client.round(next_local_ns, injections)
        self.rounds += 1
        self.asked_messages += len(injections)
        for op, time_ns in arrivals:
            self._arrival(op, time_ns)
        self.clock.horizon_ns = self._adapter_next + self.lookahead_ns \
            if self._adapter_next < NEVER and not self.eager else NEVER

    def _synchronise_pure(self, next_local_ns: int,
                          injections: list[tuple[int, int, int, int, int]]) -> None:
        """A round with a pure model: only messages of a shape not seen before go to the
        adapter (none: no round at all). Arrivals are filed in injection order, the order a
        pure model reports them in, whether they were asked or reused."""
        delays = self._delays
        unknown = [injection for injection in injections
                   if (injection[1], injection[2], injection[3]) not in delays]
        decided: dict[int, int] = {}
        if not unknown:
            self.client.check()     # no round to notice a lost adapter by
        else:
            arrivals, self._adapter_next = self.client.round(next_local_ns, unknown)
            self.rounds += 1
            self.asked_messages += len(unknown)
            decided = dict(arrivals)
            for op, src, dst, size, time_ns in unknown:
                arrival = decided.get(op)
                if arrival is None:
                    raise AstraCosimError(
                        f"{self.client.name} adapter declared its network pure but did not "
                        f"decide message {op} ({src} -> {dst}, {size} bytes) at its injection")
                delays[(src, dst, size)] = arrival - time_ns
        self.reused_messages += len(injections) - len(unknown)
        file_arrival = self._arrival
        reused_bytes = 0
        for op, src, dst, size, time_ns in injections:
            arrival = decided.pop(op, None) if decided else None
            if arrival is None:
                reused_bytes += size
                arrival = time_ns + delays[(src, dst, size)]
            file_arrival(op, arrival)
        self.reused_bytes += reused_bytes
        if decided:
            raise AstraCosimError(f"{self.client.name} adapter declared its network pure but "
                                  f"reported arrivals of messages not sent in the round: "
                                  f"{sorted(decided)[:5]}")
        self.clock.horizon_ns = self._adapter_next + self.lookahead_ns \
            if self._adapter_next < NEVER and not self.eager else NEVER

    def _arrival(self, op: int, time_ns: int) -> None:
        message = self._messages.pop(op)
        clock = self.clock
        if self.v2:
            clock.schedule_at(time_ns, message.seq, self._arrive_v2, message)
            return
        message.arrival = time_ns
        if message.send is not None:
            clock.schedule_at(time_ns, message.seq, message.send, message.send_arg)
        if message.recv is not None:
            slot = message.recv_seq if message.recv_seq >= 0 else message.seq
            clock.schedule_at(time_ns, slot, message.recv, message.recv_arg)

    def arrive_v2(self, message: _Message) -> None:
        if message.send is not None:
            message.send(message.send_arg)
        if message.recv is not None:
            message.recv(message.recv_arg)
        else:
            message.arrived = True

    def unmatched(self) -> int:
        return sum(map(len, self._unreceived.values())) + \
            sum(map(len, self._early_recvs.values()))
