"""The physical network the ns-3 adapter builds: hosts (NPUs), switches and full-duplex links.

Two sources give the same description:

* the network config the analytical backend reads (1.0 JSON or 2.x YAML, parsed by the
  analytical parsers so every key means the same), one topology per dimension:
  a Ring links each NPU to its two neighbours, FullyConnected links every pair, Switch adds
  one switch per group with a link to each member; a multi-dimensional network repeats that
  for every group of NPUs that differ only in that dimension's coordinate (mixed radix,
  dimension 0 fastest, as the analytical addressing);
* an explicit topology file in ASTRA-sim's ns-3 format (``topology_file.py``), for fabrics
  the per-dimension shapes cannot express (Clos, fat trees).

A link's rate is what one message sees on it in the analytical model: 2.x's per-link
bandwidth, or 1.0's link bandwidth times its links factor (Ring: links-count, rounded down to
even; FullyConnected: links-count // (N - 1); Switch: links-count), the factor
``topology_v1.py`` applies. GB/s means 2**30 bytes per second, as in the analytical backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.analytical.addressing import MixedRadix
from adapters.analytical.config_v1 import NetworkConfig
from adapters.analytical.config_v2 import NetworkConfigV2
from orchestrator.errors import InputError
from orchestrator.units import gb_per_s_to_bytes_per_ns


@dataclass(frozen=True, slots=True)
class Link:
    a: int                 # node index: hosts are 0 .. hosts-1, switches follow
    b: int
    rate_bps: int
    delay_ns: int


@dataclass(frozen=True, slots=True)
class Topology:
    hosts: int
    switches: int
    links: tuple[Link, ...]
    source: str

    @property
    def nodes(self) -> int:
        return self.hosts + self.switches

    def min_delay_ns(self) -> int:
        return min(link.delay_ns for link in self.links)

    def link_name(self, index: int, forward: bool) -> str:
        link = self.links[index]
        a, b = (link.a, link.b) if forward else (link.b, link.a)
        return f"{self._node_name(a)}->{self._node_name(b)}"

    def _node_name(self, node: int) -> str:
        return f"npu{node}" if node < self.hosts else f"sw{node - self.hosts}"


@dataclass(frozen=True, slots=True)
class _Dim:
    topology: str
    npus: int
    bytes_per_ns: float
    latency_ns: float


def _rate_bps(bytes_per_ns: float) -> int:
    return round(bytes_per_ns * 8e9)


def _v1_dims(config: NetworkConfig) -> list[_Dim]:
    dims = []
    for index, dim in enumerate(config.dims):
        if dim.topology == "Ring":
            factor = dim.links - dim.links % 2
        elif dim.topology == "FullyConnected":
            factor = dim.links // (dim.npus - 1) if dim.npus > 1 else dim.links
        else:
            factor = dim.links
        if factor == 0:
            raise InputError(f"links-count[{index}] = {dim.links} gives the {dim.topology} "
                             "dimension no bandwidth", config.path)
        dims.append(_Dim(dim.topology, dim.npus,
                         gb_per_s_to_bytes_per_ns(dim.bandwidth_gb_per_s) * factor,
                         dim.latency_ns))
    return dims


def _v2_dims(config: NetworkConfigV2) -> list[_Dim]:
    return [_Dim(dim.topology, dim.npus, gb_per_s_to_bytes_per_ns(dim.bandwidth_gb_per_s),
                 dim.latency_ns) for dim in config.dims]


def from_dimensions(config: NetworkConfig | NetworkConfigV2) -> Topology:
    """The per-dimension network of an analytical config (1.0 or 2.x)."""
    dims = _v1_dims(config) if isinstance(config, NetworkConfig) else _v2_dims(config)
    addresses = MixedRadix([dim.npus for dim in dims])
    hosts = addresses.npus_count
    links: list[Link] = []
    switches = 0
    for index, dim in enumerate(dims):
        rate, delay = _rate_bps(dim.bytes_per_ns), int(dim.latency_ns)
        stride = addresses.strides[index]
        for base in range(hosts):
            if addresses.coordinate(base, index) != 0:
                continue
            if dim.npus == 1:
                continue
            members = [base + k * stride for k in range(dim.npus)]
            if dim.topology == "Switch":
                switch = hosts + switches
                switches += 1
                links += [Link(member, switch, rate, delay) for member in members]
            elif dim.topology == "FullyConnected" or dim.npus == 2:
                links += [Link(a, b, rate, delay) for i, a in enumerate(members)
                          for b in members[i + 1:]]
            else:
                links += [Link(a, members[(k + 1) % dim.npus], rate, delay)
                          for k, a in enumerate(members)]
    if not links:
        raise InputError("the network has a single NPU and no links", config.path)
    return Topology(hosts, switches, tuple(links), config.path)
