"""ASTRA-sim 2.x's analytical networks as in-process adapters (SEMANTICS §5.1, §5.2).

Matching (2.x ``CallbackTracker``): the k-th send and the k-th receive with the same
``(tag, src, dst, bytes)`` pair up. When a message arrives its send handler runs and, if the
receive is already posted, the receive handler right after it, in the same event; a receive
posted later completes later in the nanosecond it is posted.

Transports decide when a message arrives:

* ``UnawareTransport``: ``trunc(hops * latency + bytes / bw)`` on the lowest dimension where
  the mixed-radix addresses differ (Ring the shorter way, Switch 2 hops, FullyConnected 1);
  messages never interact.
* ``AwareTransport``: store-and-forward over FIFO links. Each hop takes
  ``trunc(latency + bytes / bw)`` and keeps its link busy for ``trunc(bytes / bw)``; a message
  finding the link busy queues behind the ones already waiting. Ring routes the shorter way
  (clockwise on a tie), Switch goes up to the dimension's switch and down, FullyConnected
  directly. Upstream stops at one dimension; here a message crosses the dimensions in
  ascending order, each on the links of the dimension's own ring, switch or mesh.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from adapters.analytical.config_v2 import NetworkConfigV2
from adapters.base import Handler, NetworkAdapter
from orchestrator.engine.clock import EventQueue
from orchestrator.units import gb_per_s_to_bytes_per_ns

Arrival = Callable[[Any], None]


class _Addressing:
    """Mixed-radix NPU addresses, dimension 0 least significant."""

    def __init__(self, config: NetworkConfigV2) -> None:
        self.config = config
        self.sizes = [dim.npus for dim in config.dims]
        self.strides = []
        stride = 1
        for size in self.sizes:
            self.strides.append(stride)
            stride *= size
        self.bw = [gb_per_s_to_bytes_per_ns(dim.bandwidth_gb_per_s) for dim in config.dims]

    def coordinate(self, npu: int, dim: int) -> int:
        return (npu // self.strides[dim]) % self.sizes[dim]


class UnawareTransport(_Addressing):
    def __init__(self, config: NetworkConfigV2, queue: EventQueue) -> None:
        super().__init__(config)
        self.queue = queue
        self._delays: dict[tuple[int, int, int], int] = {}

    def delay_ns(self, src: int, dst: int, size_bytes: int) -> int:
        for index, dim in enumerate(self.config.dims):
            a, b = self.coordinate(src, index), self.coordinate(dst, index)
            if a == b:
                continue
            if dim.topology == "Ring":
                distance = (b - a) % dim.npus
                hops = min(distance, dim.npus - distance)
            else:
                hops = 2 if dim.topology == "Switch" else 1
            return int(hops * dim.latency_ns + size_bytes / self.bw[index])
        return 0

    def start(self, src: int, dst: int, size_bytes: int, arrival: Arrival, arg: Any) -> None:
        route = (src, dst, size_bytes)
        delay = self._delays.get(route)
        if delay is None:
            delay = self._delays[route] = self.delay_ns(src, dst, size_bytes)
        self.queue.schedule(delay, arrival, arg)

    def min_delay_ns(self) -> int:
        return min(int(dim.latency_ns) for dim in self.config.dims)


class Link:
    """A unidirectional FIFO link: one message on the wire at a time."""

    __slots__ = ("latency_ns", "bytes_per_ns", "busy", "waiting", "bytes_carried", "name")

    def __init__(self, latency_ns: float, bytes_per_ns: float, name: str) -> None:
        self.latency_ns = latency_ns
        self.bytes_per_ns = bytes_per_ns
        self.busy = False
        self.waiting: deque[_InFlight] = deque()
        self.bytes_carried = 0
        self.name = name


class _InFlight:
    __slots__ = ("size", "links", "hop", "arrival", "arg")

    def __init__(self, size: int, links: list[Link], arrival: Arrival, arg: Any) -> None:
        self.size = size
        self.links = links
        self.hop = 0
        self.arrival = arrival
        self.arg = arg


class AwareTransport(_Addressing):
    def __init__(self, config: NetworkConfigV2, queue: EventQueue) -> None:
        super().__init__(config)
        self.queue = queue
        self._links: dict[tuple, Link] = {}
        self._routes: dict[tuple[int, int], list[Link]] = {}
        self._hop_done = self.hop_done
        self._link_free = self.link_free

    # -- topology ---------------------------------------------------------------------------
    def _link(self, dim: int, group: int, a: int, b: int) -> Link:
        """The link from local index a to b in one instance of dimension ``dim``."""
        key = (dim, group, a, b)
        link = self._links.get(key)
        if link is None:
            spec = self.config.dims[dim]
            name = f"dim{dim}[{group}]:{'sw' if a == spec.npus else a}->" \
                   f"{'sw' if b == spec.npus else b}"
            link = self._links[key] = Link(spec.latency_ns, self.bw[dim], name)
        return link

    def _dimension_hops(self, dim: int, group: int, a: int, b: int) -> list[Link]:
        spec = self.config.dims[dim]
        n = spec.npus
        if spec.topology == "FullyConnected":
            return [self._link(dim, group, a, b)]
        if spec.topology == "Switch":
            return [self._link(dim, group, a, n), self._link(dim, group, n, b)]
        clockwise = (b - a) % n
        step = -1 if n - clockwise < clockwise else 1
        links = []
        while a != b:
            nxt = (a + step) % n
            links.append(self._link(dim, group, a, nxt))
            a = nxt
        return links

    def route(self, src: int, dst: int) -> list[Link]:
        cached = self._routes.get((src, dst))
        if cached is not None:
            return cached
        links: list[Link] = []
        here = src
        for dim in range(len(self.sizes)):
            a, b = self.coordinate(here, dim), self.coordinate(dst, dim)
            if a == b:
                continue
            group = here - a * self.strides[dim]       # the NPU ids sharing this instance
            links += self._dimension_hops(dim, group, a, b)
            here = group + b * self.strides[dim]
        self._routes[(src, dst)] = links
        return links

    # -- moving messages --------------------------------------------------------------------
    def start(self, src: int, dst: int, size_bytes: int, arrival: Arrival, arg: Any) -> None:
        links = self.route(src, dst)
        if not links:
            self.queue.schedule(0, arrival, arg)
            return
        self._offer(_InFlight(size_bytes, links, arrival, arg))

    def _offer(self, message: _InFlight) -> None:
        link = message.links[message.hop]
        if link.busy:
            link.waiting.append(message)
        else:
            self._transmit(link, message)

    def _transmit(self, link: Link, message: _InFlight) -> None:
        link.busy = True
        link.bytes_carried += message.size
        serialisation = message.size / link.bytes_per_ns
        self.queue.schedule(int(link.latency_ns + serialisation), self._hop_done, message)
        self.queue.schedule(int(serialisation), self._link_free, link)

    def link_free(self, link: Link) -> None:
        link.busy = False
        if link.waiting:
            self._transmit(link, link.waiting.popleft())

    def hop_done(self, message: _InFlight) -> None:
        message.hop += 1
        if message.hop == len(message.links):
            message.arrival(message.arg)
        else:
            self._offer(message)

    def min_delay_ns(self) -> int:
        return min(int(dim.latency_ns) for dim in self.config.dims)

    def link_bytes(self) -> dict[str, int]:
        return {link.name: link.bytes_carried for link in self._links.values()}


class _Exchange:
    """One message's send and receive sides (2.x ``CallbackTrackerEntry``)."""

    __slots__ = ("send", "send_arg", "recv", "recv_arg", "arrived")

    def __init__(self, send: Handler | None, send_arg: Any) -> None:
        self.send = send
        self.send_arg = send_arg
        self.recv: Handler | None = None
        self.recv_arg: Any = None
        self.arrived = False


class AnalyticalNetworkV2(NetworkAdapter):
    """Matching per key ``(tag, src, dst, bytes)``: sends not yet received wait in order in
    ``_unreceived``, receives posted before their send in ``_early_recvs``; so the k-th send
    meets the k-th receive, as 2.x's per-key send and receive counters make them."""

    def __init__(self, transport: UnawareTransport | AwareTransport, queue: EventQueue,
                 npus_count: int) -> None:
        self.transport = transport
        self.queue = queue
        self._unreceived: dict[tuple[int, int, int, int], deque[_Exchange]] = {}
        self._early_recvs: dict[tuple[int, int, int, int], deque[tuple[Handler, Any]]] = {}
        self._arrived = self.arrived
        self.bytes_sent = [0] * npus_count
        self.messages = 0

    def lookahead_ns(self) -> int:
        return self.transport.min_delay_ns()

    def send(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler | None, arg: Any) -> None:
        key = (tag, src, dst, size_bytes)
        exchange = _Exchange(handler, arg)
        early = self._early_recvs.get(key)
        if early:
            exchange.recv, exchange.recv_arg = early.popleft()
            if not early:
                del self._early_recvs[key]
        else:
            waiting = self._unreceived.get(key)
            if waiting is None:
                self._unreceived[key] = deque((exchange,))
            else:
                waiting.append(exchange)
        self.bytes_sent[src] += size_bytes
        self.messages += 1
        self.transport.start(src, dst, size_bytes, self._arrived, exchange)

    def arrived(self, exchange: _Exchange) -> None:
        if exchange.send is not None:
            exchange.send(exchange.send_arg)
        if exchange.recv is not None:
            exchange.recv(exchange.recv_arg)
        else:
            exchange.arrived = True

    def recv(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler, arg: Any) -> None:
        key = (tag, src, dst, size_bytes)
        waiting = self._unreceived.get(key)
        if not waiting:
            early = self._early_recvs.get(key)
            if early is None:
                self._early_recvs[key] = deque(((handler, arg),))
            else:
                early.append((handler, arg))
            return
        exchange = waiting.popleft()
        if not waiting:
            del self._unreceived[key]
        if exchange.arrived:
            self.queue.schedule(0, handler, arg)
        else:
            exchange.recv, exchange.recv_arg = handler, arg

    def unmatched(self) -> int:
        return sum(map(len, self._unreceived.values())) + \
            sum(map(len, self._early_recvs.values()))
