"""What the gem5 driver builds, worked out in plain Python (no gem5 needed, so it is testable
everywhere): clock and flit width from the links' bandwidth, cycles from latencies, routers,
links, network interfaces, and which interface of an NPU a message leaves and enters by.

The physical network is the ns-3 adapter's ``Topology`` (``adapters/ns3/topology.py``), read
from the same configs as every backend: a Ring links neighbours, FullyConnected every pair, a
Switch dimension adds one switch per group, multi-dimensional networks repeat per group. Each
node (NPU or switch) becomes a Garnet router; a switch is thus one crossbar router. Each link
becomes two unidirectional Garnet links (flits one way, credits back). An NPU gets one network
interface per link it has, each on its own one-cycle link into the NPU's router, so an NPU can
feed all its links at once (one interface would cap it at one link's bandwidth, which the
analytical models do not); a message leaves by the interface of the first link of its route
and is delivered at the interface of the last link.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from adapters.garnet.options import GarnetOptions
from adapters.ns3.topology import Topology
from orchestrator.errors import InputError

TICKS_PER_NS = 1000        # gem5's global frequency: 1 tick = 1 ps


@dataclass(frozen=True, slots=True)
class GarnetPlan:
    npus: int
    routers: int
    period_ps: int
    flit_bytes: int
    packet_bytes: int
    block_size_bytes: int
    vcs_per_vnet: int
    buffers_per_vc: int
    router_latency_cycles: int
    int_links: tuple[tuple[int, int, int], ...]      # (from router, to router, cycles)
    interfaces: tuple[int, ...]                      # router of each network interface
    # per NPU: neighbour node -> the interface of the link to it
    ports: tuple[dict[int, int], ...] = field(repr=False)
    neighbours: tuple[tuple[int, ...], ...] = field(repr=False)

    @property
    def bytes_per_ns(self) -> float:
        """The bandwidth Garnet gives each link: one flit per cycle."""
        return self.flit_bytes * 1000 / self.period_ps

    @property
    def flits_per_packet(self) -> int:
        """A full packet: a head flit and the payload."""
        return 1 + math.ceil(self.packet_bytes / self.flit_bytes)

    def packets(self, size_bytes: int) -> tuple[int, int]:
        """(full packets, single-flit packets) carrying ``size_bytes``; an empty message still
        needs one packet to arrive."""
        full, rest = divmod(size_bytes, self.packet_bytes)
        single = math.ceil(rest / self.flit_bytes)
        if full + single == 0:
            single = 1
        return full, single

    def flits(self, size_bytes: int) -> int:
        full, single = self.packets(size_bytes)
        return full * self.flits_per_packet + single

    def driver_config(self) -> dict:
        """What the gem5 driver needs, as JSON."""
        return {"routers": self.routers, "period_ps": self.period_ps,
                "flit_bytes": self.flit_bytes, "packet_bytes": self.packet_bytes,
                "block_size_bytes": self.block_size_bytes, "vcs_per_vnet": self.vcs_per_vnet,
                "buffers_per_vc": self.buffers_per_vc,
                "router_latency_cycles": self.router_latency_cycles,
                "int_links": [list(link) for link in self.int_links],
                "interfaces": list(self.interfaces)}

    def route_ports(self, src: int, dst: int) -> tuple[int, int]:
        """(interface at src, interface at dst) of a message: those of the first and the last
        link of a shortest route (breadth first, lower node numbers first)."""
        previous = {src: src}
        queue = deque((src,))
        while queue and dst not in previous:
            node = queue.popleft()
            for neighbour in self.neighbours[node]:
                if neighbour not in previous:
                    previous[neighbour] = node
                    queue.append(neighbour)
        if dst not in previous:
            raise InputError(f"NPU {dst} cannot be reached from NPU {src} in the garnet network")
        last_hop = previous[dst]
        node = dst
        while previous[node] != src:
            node = previous[node]
        return self.ports[src][node], self.ports[dst][last_hop]


# a link's credit round trip may cost a packet at most this share of its flits in waiting for a
# free VC (options.py: rate P / (P + R / V)); the VCs that takes, at most MAX_AUTO_VCS
VC_SHARE = 0.05
MAX_AUTO_VCS = 512


def _cycles(latency_ns: float, period_ps: int) -> int:
    return max(1, round(latency_ns * TICKS_PER_NS / period_ps))


def make_plan(topology: Topology, options: GarnetOptions) -> GarnetPlan:
    """Clock, widths, cycles and wiring of the Garnet network for ``topology``."""
    rates = sorted({link.rate_bps for link in topology.links})
    if len(rates) > 1:
        shown = ", ".join(f"{rate / 8e9 * 1e9 / (1 << 30):g}" for rate in rates)
        raise InputError(f"the garnet backend gives every link one width and clock, but the "
                         f"links have bandwidths of {shown} GB/s; give every dimension the "
                         "same bandwidth", topology.source)
    bytes_per_ns = rates[0] / 8e9
    if options.clock_ghz is None:
        width = options.flit_bytes
        period_ps = max(1, round(width / bytes_per_ns * TICKS_PER_NS))
    else:
        period_ps = max(1, round(TICKS_PER_NS / options.clock_ghz))
        width = max(1, round(bytes_per_ns * period_ps / TICKS_PER_NS))
    router_latency = options.router_latency_cycles
    nodes = topology.nodes
    neighbours: list[list[int]] = [[] for _ in range(nodes)]
    int_links: list[tuple[int, int, int]] = []
    longest = 1
    for link in topology.links:
        cycles = _cycles(link.delay_ns, period_ps)
        longest = max(longest, cycles)
        int_links += [(link.a, link.b, cycles), (link.b, link.a, cycles)]
        neighbours[link.a].append(link.b)
        neighbours[link.b].append(link.a)
    interfaces: list[int] = []
    ports: list[dict[int, int]] = []
    for npu in range(topology.hosts):
        mine = {}
        for neighbour in neighbours[npu]:
            if neighbour not in mine:
                mine[neighbour] = len(interfaces)
                interfaces.append(npu)
        ports.append(mine)
    # flits on the wire both ways (data out, credits back) plus the router pipeline and link
    # traversal at each end, with a few cycles to spare
    round_trip = 2 * (longest + router_latency + 2) + 4
    packet_flits = 1 + math.ceil(options.packet_bytes / width)
    vcs = options.vcs_per_vnet or min(MAX_AUTO_VCS, max(
        4, math.ceil(round_trip / (VC_SHARE * packet_flits))))
    buffers = options.buffers_per_vc or max(4, round_trip)
    block = 64
    while block < options.packet_bytes:
        block *= 2
    return GarnetPlan(
        npus=topology.hosts, routers=nodes, period_ps=period_ps, flit_bytes=width,
        packet_bytes=options.packet_bytes, block_size_bytes=block,
        vcs_per_vnet=vcs, buffers_per_vc=buffers,
        router_latency_cycles=router_latency, int_links=tuple(int_links),
        interfaces=tuple(interfaces), ports=tuple(ports),
        neighbours=tuple(tuple(sorted(set(n))) for n in neighbours))
