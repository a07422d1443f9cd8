"""``DATA``: data parallelism (SEMANTICS §3.1).

Forward: each layer waits for its weight-gradient collective of the previous pass, then
computes. Backward from the last layer: weight-gradient compute, issue its all-reduce
(non-blocking), input-gradient compute (not for layer 0). Only weight gradients communicate.
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.workload.loops.base import (
    ALL_DIMS, NO_DIMS, TICK, Compute, Issue, Step, TrainingLoop, Wait, training_loops)


@training_loops.register("DATA", summary="data parallel: weight-gradient all-reduce per layer")
class DataParallel(TrainingLoop):

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return {"fwd": NO_DIMS, "ig": NO_DIMS, "wg": ALL_DIMS}

    def run(self, num_passes: int) -> Iterator[Step]:
        for _ in self.passes(num_passes):
            yield from self.forward()
            yield from self.backward()

    def forward(self) -> Iterator[Step]:
        for layer in self.layers:
            yield Wait(layer, "wg")
            yield Compute(layer, "fwd")
            yield TICK

    def backward(self) -> Iterator[Step]:
        for layer in reversed(self.layers):
            yield Compute(layer, "wg")
            yield Issue(layer, "wg", "NONE")
            yield TICK
            if layer.index > 0:
                yield Compute(layer, "ig")
                yield TICK
