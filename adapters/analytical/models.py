"""The analytical network models behind the adapter spec (adapters/base.py).

* ``UnawareV1``: ASTRA-sim 1.0's congestion-unaware delays (``HierarchicalTopologyV1``).
* ``UnawareV2``: ASTRA-sim 2.x's congestion-unaware delays: ``trunc(hops * latency +
  bytes / bw)`` on the lowest dimension where the addresses differ (Ring the shorter way,
  Switch 2 hops, FullyConnected 1); messages never interact.
* ``AwareV2``: store-and-forward over FIFO links. Each hop takes ``trunc(latency + bytes /
  bw)`` and keeps its link busy for ``trunc(bytes / bw)``; a message finding its link busy
  queues behind those already waiting. Ring routes the shorter way (clockwise on a tie),
  Switch goes up to the dimension's switch and down, FullyConnected directly. Upstream stops at
  one dimension; here a message crosses the dimensions in ascending order, each on the links of
  that dimension's own ring, switch or mesh.

An unaware arrival is decided when the message is injected. An aware arrival is decided when
the message starts its last hop, so it is reported then, never later than one hop ahead.

For a symmetric run reduced to NPU 0 (orchestrator/symmetry) the aware model is built with an
``orbit``: it receives only NPU 0's messages and keeps one FIFO per *orbit* of links — a link
relabelled so that its source (or, for a switch's down-link, its destination) is NPU 0 — so
each queue holds exactly the traffic every link of its orbit carries in the full run. Two
messages offered to one such queue in the same nanosecond are queued in an order only the full
run knows, so the model refuses the reduction then (``SymmetryBroken``).
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import TYPE_CHECKING, Any

from adapters.analytical.addressing import MixedRadix
from adapters.base import NEVER, NetworkModel
from orchestrator.errors import AstraCosimError
from orchestrator.engine.clock import EventQueue
from orchestrator.symmetry.group import OrbitGroup
from orchestrator.symmetry.guard import BROKEN_MARK, SymmetryBroken
from orchestrator.units import gb_per_s_to_bytes_per_ns

if TYPE_CHECKING:
    from adapters.analytical.config_v2 import NetworkConfigV2
    from adapters.analytical.topology_v1 import HierarchicalTopologyV1


class _Counting(NetworkModel):
    def __init__(self, npus_count: int) -> None:
        self.messages = 0
        self.bytes_sent = 0
        self.npus_count = npus_count

    def _count(self, size_bytes: int) -> None:
        self.messages += 1
        self.bytes_sent += size_bytes

    def stats(self) -> dict[str, int]:
        return {"messages": self.messages, "bytes": self.bytes_sent}


class _DelayModel(_Counting):
    """Contention-free: an arrival is decided at injection."""

    decides_at_injection = True

    def __init__(self, npus_count: int, lookahead: int) -> None:
        super().__init__(npus_count)
        self._lookahead = lookahead
        self._decided: list[tuple[int, int]] = []
        self._delays: dict[tuple[int, int, int], int] = {}

    @property
    def lookahead_ns(self) -> int:
        return self._lookahead

    def delay_ns(self, src: int, dst: int, size_bytes: int) -> int:
        raise NotImplementedError

    def inject(self, op: int, src: int, dst: int, size_bytes: int, time_ns: int) -> None:
        self._count(size_bytes)
        route = (src, dst, size_bytes)
        delay = self._delays.get(route)
        if delay is None:
            delay = self._delays[route] = self.delay_ns(src, dst, size_bytes)
        self._decided.append((op, time_ns + delay))

    def advance(self, grant_ns: int) -> list[tuple[int, int]]:
        decided, self._decided = self._decided, []
        return decided

    def next_event_ns(self) -> int:
        return NEVER


class UnawareV1(_DelayModel):
    def __init__(self, topology: HierarchicalTopologyV1) -> None:
        super().__init__(topology.npus_count, topology.min_delay_ns())
        self.topology = topology

    def delay_ns(self, src: int, dst: int, size_bytes: int) -> int:
        return self.topology.delay_ns(src, dst, size_bytes)


class _Addressing:
    """Mixed-radix NPU addresses of a 2.x network, dimension 0 least significant."""

    def __init__(self, config: NetworkConfigV2) -> None:
        self.config = config
        addresses = MixedRadix([dim.npus for dim in config.dims])
        self.sizes, self.strides = addresses.sizes, addresses.strides
        self.coordinate = addresses.coordinate
        self.bw = [gb_per_s_to_bytes_per_ns(dim.bandwidth_gb_per_s) for dim in config.dims]

    def min_latency_ns(self) -> int:
        return min(int(dim.latency_ns) for dim in self.config.dims)


class UnawareV2(_DelayModel):
    def __init__(self, config: NetworkConfigV2) -> None:
        self.addressing = _Addressing(config)
        super().__init__(config.npus_count, self.addressing.min_latency_ns())

    def delay_ns(self, src: int, dst: int, size_bytes: int) -> int:
        at = self.addressing
        for index, dim in enumerate(at.config.dims):
            a, b = at.coordinate(src, index), at.coordinate(dst, index)
            if a == b:
                continue
            if dim.topology == "Ring":
                distance = (b - a) % dim.npus
                hops = min(distance, dim.npus - distance)
            else:
                hops = 2 if dim.topology == "Switch" else 1
            return int(hops * dim.latency_ns + size_bytes / at.bw[index])
        return 0


class Link:
    """A unidirectional FIFO link: one message on the wire at a time."""

    __slots__ = ("latency_ns", "bytes_per_ns", "busy", "waiting", "bytes_carried", "name",
                 "key", "offered_ns")

    def __init__(self, latency_ns: float, bytes_per_ns: float, name: str,
                 key: tuple = ()) -> None:
        self.latency_ns = latency_ns
        self.bytes_per_ns = bytes_per_ns
        self.busy = False
        self.waiting: deque[_InFlight] = deque()
        self.bytes_carried = 0
        self.name = name
        self.key = key               # (dim, group, from, to); a switch is ``npus``
        self.offered_ns = -1         # orbit mode: when a message was last offered


class _InFlight:
    __slots__ = ("op", "size", "links", "hop")

    def __init__(self, op: int, size: int, links: list[Link]) -> None:
        self.op = op
        self.size = size
        self.links = links
        self.hop = 0


class AwareV2(_Counting):
    def __init__(self, config: NetworkConfigV2, orbit: OrbitGroup | None = None) -> None:
        super().__init__(config.npus_count)
        self.at = _Addressing(config)
        self.orbit = orbit
        self.clock = EventQueue()
        self._links: dict[tuple, Link] = {}
        self._routes: dict[tuple[int, int], list[Link]] = {}
        self._decided: list[tuple[int, int]] = []
        self._injections: list[tuple[int, int, int, int, int, int]] = []   # heap
        self._sequence = 0
        self._hop_done = self.hop_done
        self._link_free = self.link_free

    @property
    def lookahead_ns(self) -> int:
        return self.at.min_latency_ns()

    # -- topology ---------------------------------------------------------------------------
    def _link(self, dim: int, group: int, a: int, b: int) -> Link:
        if self.orbit is not None:
            group, a, b = self._canonical(dim, group, a, b)
        key = (dim, group, a, b)
        link = self._links.get(key)
        if link is None:
            spec = self.at.config.dims[dim]
            link = self._links[key] = Link(spec.latency_ns, self.at.bw[dim],
                                           self._name(dim, group, a, b), key)
        return link

    def _name(self, dim: int, group: int, a: int, b: int) -> str:
        npus = self.at.config.dims[dim].npus
        return f"dim{dim}[{group}]:{'sw' if a == npus else a}->{'sw' if b == npus else b}"

    # -- orbit mode (a reduced run) -------------------------------------------------------------
    def _canonical(self, dim: int, group: int, a: int, b: int) -> tuple[int, int, int]:
        """The link of the same orbit whose source NPU (a switch's down-link: destination
        NPU) is NPU 0."""
        orbit, stride, npus = self.orbit, self.at.strides[dim], self.at.sizes[dim]
        if a == npus:
            return 0, npus, 0
        if b == npus:
            return 0, 0, npus
        moved = orbit.compose(group + b * stride, orbit.inverse(group + a * stride))
        return 0, 0, self.at.coordinate(moved, dim)

    def _images(self, link: Link) -> list[str]:
        """The names of every link of a canonical link's orbit (all carry what it carries)."""
        dim, _, a, b = link.key
        orbit, stride, npus = self.orbit, self.at.strides[dim], self.at.sizes[dim]
        names = []
        for npu in range(self.npus_count):
            coordinate = self.at.coordinate(npu, dim)
            group = npu - coordinate * stride
            if a == npus:
                names.append(self._name(dim, group, npus, coordinate))
            elif b == npus:
                names.append(self._name(dim, group, coordinate, npus))
            else:
                target = self.at.coordinate(orbit.compose(b * stride, npu), dim)
                names.append(self._name(dim, group, coordinate, target))
        return names

    def _check_tie(self, link: Link) -> None:
        now = self.clock.now_ns
        if link.offered_ns == now:
            raise SymmetryBroken(f"{BROKEN_MARK} two messages reach link {link.name} at {now} "
                                 "ns in an order only the full run knows")
        link.offered_ns = now

    def _dimension_hops(self, dim: int, group: int, a: int, b: int) -> list[Link]:
        spec = self.at.config.dims[dim]
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
        at = self.at
        for dim in range(len(at.sizes)):
            a, b = at.coordinate(here, dim), at.coordinate(dst, dim)
            if a == b:
                continue
            group = here - a * at.strides[dim]
            links += self._dimension_hops(dim, group, a, b)
            here = group + b * at.strides[dim]
        self._routes[(src, dst)] = links
        return links

    # -- the adapter spec -------------------------------------------------------------------
    def inject(self, op: int, src: int, dst: int, size_bytes: int, time_ns: int) -> None:
        if self.orbit is not None and src != 0:
            raise SymmetryBroken(f"{BROKEN_MARK} NPU {src} sends to the orbit model of a reduced "
                                 "run")
        if time_ns < self.clock.now_ns:
            raise AstraCosimError(f"message {op} ({src} -> {dst}, {size_bytes} bytes) injected "
                                  f"at {time_ns} ns, but the network has already processed "
                                  f"{self.clock.now_ns} ns (the engine broke the grant)")
        self._count(size_bytes)
        heapq.heappush(self._injections, (time_ns, self._sequence, op, src, dst, size_bytes))
        self._sequence += 1

    def advance(self, grant_ns: int) -> list[tuple[int, int]]:
        """Process events before the grant, in time order (the model's own events of one ns
        before injections of that ns), but no further than the earliest arrival decided: its
        handler may inject at that time, and nothing here may have run past an injection."""
        clock = self.clock
        injections = self._injections
        decided = self._decided
        limit = grant_ns
        reported = len(decided)
        while True:
            own = clock.next_time()
            own = NEVER if own is None else own
            first_injection = injections[0][0] if injections else NEVER
            if min(own, first_injection) >= limit:
                break
            if own <= first_injection:
                clock.run_until(own + 1)
            else:
                time_ns, _, op, src, dst, size = heapq.heappop(injections)
                clock.now_ns = time_ns
                links = self.route(src, dst)
                if links:
                    self._offer(_InFlight(op, size, links))
                else:
                    decided.append((op, time_ns))
            if len(decided) > reported:
                limit = min(limit, min(time_ns for _, time_ns in decided[reported:]))
                reported = len(decided)
        self._decided = []
        return decided

    def next_event_ns(self) -> int:
        pending = self.clock.next_time()
        first_injection = self._injections[0][0] if self._injections else NEVER
        return min(NEVER if pending is None else pending, first_injection)

    # -- moving messages --------------------------------------------------------------------
    def _offer(self, message: _InFlight) -> None:
        link = message.links[message.hop]
        if self.orbit is not None:
            self._check_tie(link)
        if link.busy:
            link.waiting.append(message)
        else:
            self._transmit(link, message)

    def _transmit(self, link: Link, message: _InFlight) -> None:
        link.busy = True
        link.bytes_carried += message.size
        serialisation = message.size / link.bytes_per_ns
        hop_ns = int(link.latency_ns + serialisation)
        if message.hop == len(message.links) - 1:
            self._decided.append((message.op, self.clock.now_ns + hop_ns))   # the last hop
        else:
            self.clock.schedule(hop_ns, self._hop_done, message)
        self.clock.schedule(int(serialisation), self._link_free, link)

    def link_free(self, link: Link) -> None:
        link.busy = False
        if link.waiting:
            self._transmit(link, link.waiting.popleft())

    def hop_done(self, message: _InFlight) -> None:
        message.hop += 1
        self._offer(message)

    def stats(self) -> dict[str, int]:
        """Totals, then the bytes each link carried as ``link_bytes/<link>`` (the key the
        statistics read, whatever the placement)."""
        result = super().stats()
        links = self.link_bytes()
        result["links_used"] = len(links)
        for name, carried in links.items():
            result[f"link_bytes/{name}"] = carried
        return result

    def link_bytes(self) -> dict[str, int]:
        if self.orbit is None:
            return {link.name: link.bytes_carried for link in self._links.values()}
        return {name: link.bytes_carried for link in self._links.values()
                for name in self._images(link)}


def build_unaware_v1(doc: dict[str, Any], source: str) -> NetworkModel:
    # imported here: a run of one generation does not pay for the other's network file
    from adapters.analytical.config_v1 import parse_v1_network
    from adapters.analytical.topology_v1 import HierarchicalTopologyV1
    return UnawareV1(HierarchicalTopologyV1(parse_v1_network(doc, source)))


def build_unaware_v2(doc: dict[str, Any], source: str) -> NetworkModel:
    from adapters.analytical.config_v2 import parse_v2_network      # as 1.0's, lazily
    return UnawareV2(parse_v2_network(doc, source))


def build_aware_v2(doc: dict[str, Any], source: str) -> NetworkModel:
    """``doc`` is the YAML network; a reduced run adds ``orbit: {sizes, kinds}``."""
    from adapters.analytical.config_v2 import parse_v2_network
    doc = dict(doc)
    orbit = doc.pop("orbit", None)
    group = OrbitGroup(orbit["sizes"], orbit["kinds"]) if orbit else None
    return AwareV2(parse_v2_network(doc, source), group)
