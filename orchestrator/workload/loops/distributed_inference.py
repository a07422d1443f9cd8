"""``DISTRIBUTED_INFERENCE``: forward passes only (SEMANTICS §3.1).

Each layer: wait for its weight-gradient collective (never issued here), forward compute, then
a blocking forward collective on all dimensions; a pass ends after the last layer.
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.workload.loops.base import (
    ALL_DIMS, NO_DIMS, Step, TrainingLoop, blocking_forward, training_loops)


@training_loops.register("DISTRIBUTED_INFERENCE", summary="forward passes with blocking "
                                                          "collectives, no backward pass")
class DistributedInference(TrainingLoop):

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return {"fwd": ALL_DIMS, "ig": ALL_DIMS, "wg": NO_DIMS}

    def run(self, num_passes: int) -> Iterator[Step]:
        for _ in self.passes(num_passes):
            for layer in self.layers:
                yield from blocking_forward(layer)
