"""``HYBRID_DLRM`` and ``HYBRID_DLRM_ENHANCED`` (SEMANTICS §3.1).

Header: ``HYBRID_DLRM <last bottom-MLP layer>``. Layer 0 is the embedding: all its collectives
span every dimension; the MLPs are data parallel. Forward: a layer whose forward collective is
an all-to-all issues it (highest priority, non-blocking) after its compute; on reaching the
last bottom-MLP layer the loop waits for layer 0's forward all-to-all. Backward: weight
gradient and its collective, then the input gradient; the input gradient of the first top
layer issues layer 0's backward all-to-all (highest priority). ``HYBRID_DLRM`` also waits for
each layer's input-gradient collective before leaving its weight-gradient step;
``HYBRID_DLRM_ENHANCED`` does not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.errors import InputError
from orchestrator.limits import whole_number
from orchestrator.workload.layer import Layer
from orchestrator.workload.loops.base import (
    ALL_DIMS, NO_DIMS, TICK, Compute, Issue, Step, TrainingLoop, Wait, training_loops)


@training_loops.register("HYBRID_DLRM",
                         summary="DLRM: embedding all-to-all, data-parallel MLPs")
class HybridDlrm(TrainingLoop):
    waits_for_input_gradient = True

    @classmethod
    def parse_header(cls, tokens: list[str], path: str, line: int) -> dict[str, Any]:
        if len(tokens) != 1:
            found = repr(" ".join(tokens)) if tokens else "nothing"
            raise InputError(f"header: found {found} after the parallelism token; expected the "
                             "index of the last bottom-MLP layer", path, line)
        try:
            last_bottom = whole_number(tokens[0])
        except ValueError:
            raise InputError(f"header: found {tokens[0]!r}; expected the index of the last "
                             "bottom-MLP layer (a whole number)", path, line) from None
        return {"last_bottom_layer": last_bottom}

    @classmethod
    def validate(cls, header: dict[str, Any], layers: Sequence[Layer], path: str) -> None:
        last = header["last_bottom_layer"]
        if not 0 <= last < len(layers) - 1:
            raise InputError(f"header: last bottom-MLP layer {last} must lie in 0..{len(layers) - 2}"
                             " (at least one top layer follows it)", path, 1)

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return {"fwd": NO_DIMS, "ig": NO_DIMS, "wg": ALL_DIMS}

    def layer_dimensions(self, layer: Layer, kind: str) -> tuple[bool, ...]:
        if layer.index == 0:
            return ALL_DIMS
        return super().layer_dimensions(layer, kind)

    def run(self, num_passes: int) -> Iterator[Step]:
        last_bottom = self.header["last_bottom_layer"]
        embedding = self.layers[0]
        for _ in self.passes(num_passes):
            for layer in self.layers:
                yield Wait(layer, "wg")
                yield Compute(layer, "fwd")
                if layer.fwd_comm.kind == "ALLTOALL":
                    yield Issue(layer, "fwd", "HIGHEST")
                elif layer.index == last_bottom:
                    yield Wait(embedding, "fwd")
                yield TICK
            for layer in reversed(self.layers):
                yield Compute(layer, "wg")
                yield Issue(layer, "wg", "NONE")
                if self.waits_for_input_gradient:
                    yield Wait(layer, "ig")
                yield TICK
                if layer.index > 0:
                    yield Compute(layer, "ig")
                    if layer.index == last_bottom + 1:
                        yield Issue(embedding, "ig", "HIGHEST")
                    yield TICK


@training_loops.register("HYBRID_DLRM_ENHANCED",
                         summary="HYBRID_DLRM without waiting for input-gradient collectives")
class HybridDlrmEnhanced(HybridDlrm):
    waits_for_input_gradient = False
