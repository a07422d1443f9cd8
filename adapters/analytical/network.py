"""The congestion-unaware analytical network as an in-process adapter (SEMANTICS §5.1, §5.3).

A send is delivered ``delay_ns(src, dst, bytes)`` after it starts; send and receive handlers
both run at delivery (send first when the receive was already posted). A receive posted
after its message was sent but before it arrived completes at the arrival time; one posted
later completes at once (later in the current nanosecond; ASTRA-sim 1.0 would abort there).
Unmatched operations wait in FIFO queues per key ``(tag, src, dst, bytes)``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from adapters.analytical.topology_v1 import HierarchicalTopologyV1
from adapters.base import Handler, NetworkAdapter
from orchestrator.engine.clock import EventQueue


class AnalyticalNetworkV1(NetworkAdapter):
    """In-process adapter: schedules deliveries directly on the engine's event queue."""

    def __init__(self, topology: HierarchicalTopologyV1, queue: EventQueue) -> None:
        self.topology = topology
        self.queue = queue
        self._sent: dict[tuple[int, int, int, int], deque[int]] = {}
        self._posted: dict[tuple[int, int, int, int], deque[tuple[Handler, Any]]] = {}
        self.bytes_sent = [0] * topology.npus_count
        self.messages = 0
        # Delays depend only on (src, dst, bytes), which repeat endlessly in collectives.
        self._delays: dict[tuple[int, int, int], int] = {}

    def lookahead_ns(self) -> int:
        return self.topology.min_delay_ns()

    def send(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler | None, arg: Any) -> None:
        route = (src, dst, size_bytes)
        delay = self._delays.get(route)
        if delay is None:
            delay = self._delays[route] = self.topology.delay_ns(src, dst, size_bytes)
        self.bytes_sent[src] += size_bytes
        self.messages += 1
        queue = self.queue
        if handler is not None:
            queue.schedule(delay, handler, arg)
        key = (tag, src, dst, size_bytes)
        posted = self._posted.get(key)
        if posted:
            recv_handler, recv_arg = posted.popleft()
            if not posted:
                del self._posted[key]
            queue.schedule(delay, recv_handler, recv_arg)
        else:
            self._sent.setdefault(key, deque()).append(queue.now_ns + delay)

    def recv(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler, arg: Any) -> None:
        key = (tag, src, dst, size_bytes)
        sent = self._sent.get(key)
        if sent:
            arrival = sent.popleft()
            if not sent:
                del self._sent[key]
            self.queue.schedule(max(arrival - self.queue.now_ns, 0), handler, arg)
        else:
            self._posted.setdefault(key, deque()).append((handler, arg))

    def unmatched(self) -> int:
        """Operations still waiting for a partner (non-zero after a run means a stall)."""
        return sum(map(len, self._sent.values())) + sum(map(len, self._posted.values()))
