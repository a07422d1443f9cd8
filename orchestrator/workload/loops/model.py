"""``MODEL`` and the hybrids that share its loop (SEMANTICS §3.1).

Forward: wait for the layer's weight-gradient collective of the previous pass, compute, then
a *blocking* forward collective. Backward from the last layer: input-gradient compute, issue
its collective (LIFO, non-blocking, not for layer 0), weight-gradient compute, issue the
weight-gradient collective (FIFO, non-blocking; ``MODEL`` itself has none), then wait for the
layer's input-gradient collective before moving down.

``HYBRID_DATA_MODEL``: forward / input gradient on dimension 0, weight gradient above.
``HYBRID_MODEL_DATA``: the other way round. ``HYBRID_CUSTOMIZED``: each layer names its own
parallelism in an extra column.
"""

from __future__ import annotations

from collections.abc import Iterator

from orchestrator.workload.layer import Layer
from orchestrator.workload.loops.base import (
    ALL_BUT_FIRST, ALL_DIMS, FIRST_DIM_ONLY, NO_DIMS, TICK, Compute, Issue, Step, TrainingLoop, Wait,
    blocking_forward, training_loops)

POLICY_DIMENSIONS = {
    "DATA": {"fwd": NO_DIMS, "ig": NO_DIMS, "wg": ALL_DIMS},
    "MODEL": {"fwd": ALL_DIMS, "ig": ALL_DIMS, "wg": NO_DIMS},
    "HYBRID_DATA_MODEL": {"fwd": FIRST_DIM_ONLY, "ig": FIRST_DIM_ONLY, "wg": ALL_BUT_FIRST},
    "HYBRID_MODEL_DATA": {"fwd": ALL_BUT_FIRST, "ig": ALL_BUT_FIRST, "wg": FIRST_DIM_ONLY},
}


@training_loops.register("MODEL", summary="model parallel: blocking forward, LIFO input-gradient "
                                          "collectives")
class ModelParallel(TrainingLoop):
    issues_weight_grad = False

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return POLICY_DIMENSIONS["MODEL"]

    def run(self, num_passes: int) -> Iterator[Step]:
        for _ in self.passes(num_passes):
            for layer in self.layers:
                yield from blocking_forward(layer)
            for layer in reversed(self.layers):
                yield from self.input_gradient(layer)
                yield TICK
                yield Compute(layer, "wg")
                if self.issues_weight_grad:
                    yield Issue(layer, "wg", "FIFO")
                yield Wait(layer, "ig")
                yield TICK

    def input_gradient(self, layer: Layer) -> Iterator[Step]:
        yield Compute(layer, "ig")
        if layer.index > 0:
            yield Issue(layer, "ig", "LIFO")


@training_loops.register("HYBRID_DATA_MODEL",
                         summary="model parallel on dim 0, data parallel on the others")
class HybridDataModel(ModelParallel):
    issues_weight_grad = True

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return POLICY_DIMENSIONS["HYBRID_DATA_MODEL"]


@training_loops.register("HYBRID_MODEL_DATA",
                         summary="data parallel on dim 0, model parallel on the others")
class HybridModelData(ModelParallel):
    issues_weight_grad = True

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return POLICY_DIMENSIONS["HYBRID_MODEL_DATA"]


@training_loops.register("HYBRID_CUSTOMIZED",
                         summary="per-layer parallelism named in an extra column")
class HybridCustomized(ModelParallel):
    issues_weight_grad = True
    per_layer_policy = True
    # upstream decodes the column like a header token; tokens that share a loop's dimensions
    # are accepted as aliases of it.
    layer_policies = tuple(POLICY_DIMENSIONS) + ("MICRO", "DATA_REORDER", "HYBRID_DLRM",
                                                 "HYBRID_DLRM_ENHANCED", "DISTRIBUTED_INFERENCE")

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return POLICY_DIMENSIONS["MODEL"]   # unused: every layer names its own policy

    def layer_dimensions(self, layer: Layer, kind: str) -> tuple[bool, ...]:
        return POLICY_DIMENSIONS[_POLICY_ALIASES.get(layer.policy, layer.policy)][kind]


_POLICY_ALIASES = {"MICRO": "DATA", "DATA_REORDER": "DATA", "HYBRID_DLRM": "DATA",
                   "HYBRID_DLRM_ENHANCED": "DATA", "DISTRIBUTED_INFERENCE": "MODEL"}
