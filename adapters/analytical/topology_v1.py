"""Message delays of ASTRA-sim 1.0's analytical network (SEMANTICS §5.3).

Per dimension: bandwidth ``GB/s * 2**30 / 1e9`` bytes per ns, multiplied by a links factor
(Ring: links rounded down to even; FullyConnected: ``links // (N-1)``, integer division;
Switch: links). A message between two NPUs travels on the *highest* dimension where their
mixed-radix addresses (dimension 0 least significant) differ. Its delay is accumulated in an
``int`` as 1.0 does, truncating after each term: ``hops * latency``, then ``+ bytes / bw``,
then ``+ 2 * nic_latency``, then (Switch) ``+ router_latency``; the result is the larger of
that and the HBM term ``(hbm_latency + bytes / hbm_bw) * hbm_scale`` (0 by default).
Hops: Ring the shorter way round, FullyConnected 1, Switch 2. No contention.
"""

from __future__ import annotations

from adapters.analytical.addressing import MixedRadix
from orchestrator.errors import InputError
from adapters.analytical.config_v1 import NetworkConfig
from orchestrator.units import gb_per_s_to_bytes_per_ns


class HierarchicalTopologyV1:
    """Precomputed per-dimension constants and the delay function."""

    def __init__(self, config: NetworkConfig) -> None:
        self.config = config
        self.addresses = MixedRadix([dim.npus for dim in config.dims])
        self.npus_count = self.addresses.npus_count
        self.coordinate = self.addresses.coordinate
        self._bw = []
        for index, dim in enumerate(config.dims):
            if dim.topology == "Ring":
                factor = dim.links if dim.links % 2 == 0 else dim.links - 1
            elif dim.topology == "FullyConnected":
                factor = dim.links // (dim.npus - 1) if dim.npus > 1 else dim.links
            else:
                factor = dim.links
            if factor == 0:
                raise InputError(f"links-count[{index}] = {dim.links} gives a {dim.topology} "
                                 f"of {dim.npus} NPUs no bandwidth (ASTRA-sim 1.0 needs "
                                 + ("an even count >= 2" if dim.topology == "Ring"
                                    else f"at least {dim.npus - 1}, one link per peer")
                                 + ")", config.path)
            self._bw.append(gb_per_s_to_bytes_per_ns(dim.bandwidth_gb_per_s) * factor)
        self._hops_fixed = {"FullyConnected": 1, "Switch": 2}

    def delay_ns(self, src: int, dst: int, size_bytes: int) -> int:
        """The 1.0 delay of one message from ``src`` to ``dst`` (integer ns)."""
        if src == dst:
            return 0
        dims = self.config.dims
        for index in range(len(dims) - 1, -1, -1):
            a = self.coordinate(src, index)
            b = self.coordinate(dst, index)
            if a != b:
                break
        dim = dims[index]
        if dim.topology == "Ring":
            distance = abs(a - b)
            hops = min(distance, dim.npus - distance)
        else:
            hops = self._hops_fixed[dim.topology]
        delay = int(hops * dim.latency_ns)
        delay = int(delay + size_bytes / self._bw[index])
        delay = int(delay + 2 * dim.nic_latency_ns)
        if dim.topology == "Switch":
            delay = int(delay + dim.router_latency_ns)
        if dim.hbm_scale > 0:
            hbm_bw = dim.hbm_bandwidth_gb_per_s or 1.0
            hbm = (dim.hbm_latency_ns + size_bytes / hbm_bw) * dim.hbm_scale
            delay = max(delay, int(hbm))
        return delay

    def min_delay_ns(self) -> int:
        """A lower bound on any message's delay: the smallest one-hop latency."""
        return min(int(dim.latency_ns) for dim in self.config.dims)
