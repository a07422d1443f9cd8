"""``DATA_REORDER``: MLSys'22 tutorial exercise 4, and the worked example of adding a loop.

Same as ``DATA`` except the backward order: input gradient before weight gradient for each
layer: ig(n-1) -> wg(n-1) + its all-reduce -> ig(n-2) -> ... -> ig(1) -> wg(1), wg(0).
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.workload.loops.base import TICK, Compute, Issue, Step, training_loops
from orchestrator.workload.loops.data import DataParallel


@training_loops.register("DATA_REORDER",
                         summary="DATA with the backward pass as ig(i) then wg(i) per layer")
class DataReorder(DataParallel):

    def backward(self) -> Iterator[Step]:
        only_layer = len(self.layers) == 1
        for layer in reversed(self.layers):
            # upstream: the pass enters the input-gradient state at the last layer, so a
            # one-layer workload computes ig(0) too.
            if layer.index > 0 or only_layer:
                yield Compute(layer, "ig")
                yield TICK
            yield Compute(layer, "wg")
            yield Issue(layer, "wg", "NONE")
            yield TICK
