"""``MICRO``: a collective micro-benchmark (SEMANTICS §3.1).

At t = 0 the first layer's weight-gradient collective is issued once per pass, all at once;
the run then ends when every stream has finished. Compute columns are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.workload.loops.base import (
    ALL_DIMS, NO_DIMS, Issue, Step, TrainingLoop, training_loops)


@training_loops.register("MICRO", summary="issue layer 0's weight-gradient collective per pass")
class MicroBenchmark(TrainingLoop):

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return {"fwd": NO_DIMS, "ig": NO_DIMS, "wg": ALL_DIMS}

    def run(self, num_passes: int) -> Iterator[Step]:
        for _ in self.passes(num_passes):
            yield Issue(self.layers[0], "wg", "NONE")
