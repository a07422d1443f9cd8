"""Splitting a collective into chunks when an inter-dimension policy orders the dimensions.

1.0's ``generate_collective`` with ``roundRobin`` or Themis: chunks are cut one after another
from what is left of the collective; each gets its dimension order (and, for Themis, its
size) before its phases are planned, and enters its first queue at once, in creation order.
With Themis the localBWAware all-reduce runs reduce-scatter on every dimension and then
all-gather back (no all-reduce phase). All-to-all keeps the default order under Themis (it
still rotates under ``roundRobin``).

``OrderedChunking`` is shared by all NPUs of a run; the per-NPU part (the round-robin
counter) is kept here by NPU id so that ``Npu`` carries no scheduling state of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.system.algorithms.base import ALL_REDUCE, ALL_TO_ALL
from orchestrator.system.collective import CollectivePlanner
from orchestrator.system.scheduling.dimension_order import (
    RoundRobinOrder, ThemisScheduler, default_order)
from orchestrator.system.streams import DataSet, Stream

if TYPE_CHECKING:
    from orchestrator.system.npu import Npu


class OrderedChunking:
    """Chunking for ``roundRobin`` (``themis`` None) or Themis (``themis`` given)."""

    def __init__(self, planner: CollectivePlanner, npus_count: int,
                 themis: ThemisScheduler | None) -> None:
        self.planner = planner
        self.themis = themis
        self._round_robin = [RoundRobinOrder() for _ in range(npus_count)] \
            if themis is None else None

    def generate(self, npu: Npu, kind: str, size_bytes: int, chunk: int,
                 involved: Sequence[bool], priority: int,
                 on_finished: Callable[[DataSet], None], owner: Any) -> DataSet | None:
        planner, themis = self.planner, self.themis
        dims = len(planner.plans[kind])
        if themis is not None and npu.id == 0:
            themis.collective_created(npu.now_ns)
        greedy = themis is not None and kind != ALL_TO_ALL
        split_fully = themis is not None and kind == ALL_REDUCE
        dataset = DataSet(npu._dataset_counter, kind, size_bytes, npu.now_ns,
                          total_streams=0, on_finished=on_finished, context=owner)
        streams: list[Stream] = []
        preferred = chunk            # 1.0's recommended chunk size: size / splits
        remaining = size_bytes
        while remaining > 0:
            chunk = min(chunk, remaining)
            number = npu._stream_counter
            if greedy:
                order, chunk = themis.schedule(number, remaining, preferred, involved, kind)
            elif themis is None:
                order = self._round_robin[npu.id].next_order(kind, dims)
            else:
                order = default_order(kind, dims)
            remaining -= chunk
            phases = planner.phases(kind, chunk, involved, npu._tree_parity, order[:dims],
                                    split_fully)
            if not phases:
                break           # 1.0 marks the collective inactive: nothing is sent
            npu._stream_counter += 1
            if npu.queue_levels is not None:
                npu.queue_levels.assign(phases)
            streams.append(Stream(number, dataset, priority, phases))
        if not streams:
            return None
        # Registered before the chunks start, as in npu.generate_collective.
        dataset.total_streams = len(streams)
        npu._dataset_counter += 1
        npu.active_datasets[dataset.id] = dataset
        npu.streams_injected += len(streams)
        for stream in streams:
            npu._advance(stream)
        return dataset

