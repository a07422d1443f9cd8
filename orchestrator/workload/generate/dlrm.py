"""DLRM: embedding tables model-parallel, MLPs data-parallel, for 1.0's ``HYBRID_DLRM`` loop.

Layer 0 is the embedding lookup: each NPU holds tables/P tables, looks them up for the whole
batch (``lookup_cycles``, as the table lookups are no GEMM) and exchanges the pooled vectors
with an ALLTOALL of batch·(tables/P)·dim·B bytes, forward and backward. The bottom and top
MLP layers follow with the DATA recipe (weight-gradient ALLREDUCE n·k·B). The header names
the last bottom-MLP layer, where the loop waits for the embedding exchange.
"""

from __future__ import annotations

from orchestrator.errors import InputError
from orchestrator.workload.generate.model_file import GemmLayer, ModelDescription
from orchestrator.workload.generate.recipes import (
    Parallel, Plan, PlannedLayer, Work, data_parallel)


def dlrm_plan(model: ModelDescription, parallel: Parallel) -> Plan:
    spec = model.dlrm
    if spec is None:
        raise InputError("parallelism DLRM expands a dlrm: section; this model has none",
                         model.path)
    if spec.tables % parallel.npus:
        raise InputError(f"DLRM: {spec.tables} embedding tables do not divide over "
                         f"{parallel.npus} NPUs", model.path, spec.line)
    exchange = model.batch * (spec.tables // parallel.npus) * spec.dim * model.datatype_bytes
    embedding = PlannedLayer("Embedding", Work(cycles=spec.lookup_cycles),
                             Work(cycles=spec.lookup_cycles), Work(),
                             fwd_comm=("ALLTOALL", exchange), ig_comm=("ALLTOALL", exchange))
    mlp = [GemmLayer(f"MLP_{part}_{index}", model.batch, outputs, inputs, spec.line)
           for part, widths in (("Bottom", spec.bottom), ("Top", spec.top))
           for index, (inputs, outputs) in enumerate(zip(widths, widths[1:]))]
    mlp_model = ModelDescription(model.name, model.path, model.datatype_bytes, model.batch,
                                 model.update_delay, model.wg_divisor, list(mlp))
    layers = [embedding] + data_parallel(mlp_model, parallel)
    return Plan(f"HYBRID_DLRM {len(spec.bottom) - 1}", layers)
