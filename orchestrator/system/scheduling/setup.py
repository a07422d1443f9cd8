"""Building a run's dimension scheduling from the system and network settings (1.0 only).

The network is described by plain per-dimension tuples (topology, NPUs, links, link GB/s) so
that the system layer does not depend on an adapter's configuration classes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from orchestrator.system.scheduler import QueueSet
from orchestrator.system.scheduling.intra import queue_set_factory
from orchestrator.system.scheduling.policies import ASCENDING, ROUND_ROBIN

if TYPE_CHECKING:
    from orchestrator.system.collective import CollectivePlanner
    from orchestrator.system.config import SystemConfig
    from orchestrator.system.scheduling.ordered import OrderedChunking


NetworkDimension = tuple[str, int, int, float]     # topology, NPUs, links, link GB/s


def dimension_bandwidth(dimension: NetworkDimension) -> float:
    """1.0's ``get_BW_at_dimension``: usable links x link GB/s (a Ring's links rounded down to
    an even count, a FullyConnected's to a multiple of its peers)."""
    topology, npus, links, gb_per_s = dimension
    if topology == "Ring":
        links -= links % 2
    elif topology == "FullyConnected" and npus > 1:
        links -= links % (npus - 1)
    return links * gb_per_s


def build_scheduling(system: SystemConfig, planner: CollectivePlanner,
                     network: Sequence[NetworkDimension],
                     logical_dims: Sequence[int], split_at: int | None, npus_count: int
                     ) -> tuple[OrderedChunking | None, Callable[..., QueueSet]]:
    """The chunking (None for ascending) and the queue class of the configured policies. A
    dimension split for model parallelism keeps its physical bandwidth in both halves.

    Ascending order (most runs) imports none of the inter-dimension policies' modules."""
    queue_set = queue_set_factory(system.intra_dimension_scheduling)
    policy = system.inter_dimension_scheduling
    if policy == ASCENDING:
        return None, queue_set
    from orchestrator.system.scheduling.dimension_order import ThemisScheduler
    from orchestrator.system.scheduling.ordered import OrderedChunking
    if policy == ROUND_ROBIN:
        return OrderedChunking(planner, npus_count, None), queue_set
    bandwidths = []
    for dim in range(len(logical_dims)):
        physical = dim - 1 if split_at is not None and dim > split_at else dim
        bandwidths.append(dimension_bandwidth(network[physical]))
    themis = ThemisScheduler(policy, logical_dims, bandwidths, npus_count)
    return OrderedChunking(planner, npus_count, themis), queue_set
