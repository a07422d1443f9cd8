"""Parallelism recipes: how a model's layers split over NPUs, what each NPU computes and
which collectives it issues (ASTRA-sim's generator recipe, SEMANTICS §6).

A weight layer is a GEMM (m rows, k inputs, n outputs). Every recipe gives each NPU three
GEMMs per layer, as upstream's generator gives SCALE-Sim three rows: forward (m' x k) x
(k x n'), input gradient (m' x n') x (n' x k), weight gradient (k x m') x (m' x n'), where m'
and n' are the NPU's share. Communication sizes come from the same shapes:

| recipe | NPU's share | forward | input gradient | weight gradient |
|---|---|---|---|---|
| DATA, DATA_REORDER | m/P | – | – | ALLREDUCE n·k·B |
| MODEL | n/P | ALLGATHER m·n·B/P | REDUCESCATTER m·k·B | – |
| HYBRID_DATA_MODEL | m/packages, n/per-package | ALLGATHER m·n·B/P | REDUCESCATTER m·k·B/packages | ALLREDUCE k·n·B/per-package |
| HYBRID_MODEL_DATA | m/per-package, n/packages | ALLGATHER m·n·B/P | REDUCESCATTER m·k·B/per-package | ALLREDUCE n·k·B/packages |

B is bytes per element, P the NPU count. A share that does not divide exactly is an error
(upstream truncates silently). TRANSFORMER and DLRM are in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.base import ComputeRequest
from orchestrator.errors import InputError
from orchestrator.workload.generate.model_file import FixedLayer, GemmLayer, ModelDescription

NO_COMM = ("NONE", 0)


@dataclass(frozen=True, slots=True)
class Work:
    """Compute of one pass of one layer on one NPU: ``count`` x each GEMM, plus fixed cycles."""

    requests: tuple[tuple[int, ComputeRequest], ...] = ()
    cycles: int = 0


@dataclass(frozen=True, slots=True)
class PlannedLayer:
    name: str
    fwd: Work
    ig: Work
    wg: Work
    fwd_comm: tuple[str, int] = NO_COMM
    ig_comm: tuple[str, int] = NO_COMM
    wg_comm: tuple[str, int] = NO_COMM


@dataclass(frozen=True, slots=True)
class Plan:
    header: str
    layers: list[PlannedLayer]


@dataclass(frozen=True, slots=True)
class Parallel:
    """What the command line says about the split: NPUs, packages (HYBRID_*), TP and PP
    sizes (TRANSFORMER)."""

    npus: int
    packages: int | None = None
    tp: int | None = None
    pp: int = 1


def exact(value: int, parts: int, what: str, model: ModelDescription,
          line: int | None) -> int:
    """``value / parts``, or an error saying which split does not divide."""
    if parts < 1 or value % parts:
        raise InputError(f"{what}: {value} does not divide into {parts} equal parts; choose an "
                         "NPU count (or packages / TP size) that divides it", model.path, line)
    return value // parts


def three_gemms(m: int, n: int, k: int, count: int = 1) -> tuple[Work, Work, Work]:
    """Forward, input-gradient and weight-gradient GEMMs of an (m x k) by (k x n) layer."""
    return (Work(((count, ComputeRequest.gemm(m, n, k)),)),
            Work(((count, ComputeRequest.gemm(m, k, n)),)),
            Work(((count, ComputeRequest.gemm(k, n, m)),)))


def _fixed(layer: FixedLayer) -> PlannedLayer:
    return PlannedLayer(layer.name, Work(cycles=layer.fwd), Work(cycles=layer.ig),
                        Work(cycles=layer.wg))


def data_parallel(model: ModelDescription, parallel: Parallel) -> list[PlannedLayer]:
    planned = []
    for layer in _gemm_layers(model, "DATA"):
        if isinstance(layer, FixedLayer):
            planned.append(_fixed(layer))
            continue
        m = exact(layer.m, parallel.npus, f"layer {layer.name}: DATA splits m", model,
                  layer.line)
        planned.append(PlannedLayer(layer.name, *three_gemms(m, layer.n, layer.k),
                                    wg_comm=("ALLREDUCE", layer.n * layer.k *
                                             model.datatype_bytes)))
    return planned


def model_parallel(model: ModelDescription, parallel: Parallel) -> list[PlannedLayer]:
    planned = []
    size = model.datatype_bytes
    for layer in _gemm_layers(model, "MODEL"):
        if isinstance(layer, FixedLayer):
            planned.append(_fixed(layer))
            continue
        what = f"layer {layer.name}: MODEL splits"
        n = exact(layer.n, parallel.npus, what + " n", model, layer.line)
        planned.append(PlannedLayer(
            layer.name, *three_gemms(layer.m, n, layer.k),
            fwd_comm=("ALLGATHER", exact(layer.m * layer.n * size, parallel.npus,
                                         what + " the output bytes", model, layer.line)),
            ig_comm=("REDUCESCATTER", layer.m * layer.k * size)))
    return planned


def hybrid(model: ModelDescription, parallel: Parallel, data_between_packages: bool
           ) -> list[PlannedLayer]:
    """HYBRID_DATA_MODEL (data parallel between packages, model parallel inside one) and
    HYBRID_MODEL_DATA (the other way round)."""
    name = "HYBRID_DATA_MODEL" if data_between_packages else "HYBRID_MODEL_DATA"
    if parallel.packages is None:
        raise InputError(f"{name} needs --packages (NPUs = packages x NPUs per package)")
    per_package = exact(parallel.npus, parallel.packages, f"{name}: --npus over --packages",
                        model, None)
    data_parts, model_parts = ((parallel.packages, per_package) if data_between_packages
                               else (per_package, parallel.packages))
    planned = []
    size = model.datatype_bytes
    for layer in _gemm_layers(model, name):
        if isinstance(layer, FixedLayer):
            planned.append(_fixed(layer))
            continue
        what = f"layer {layer.name}: {name} splits"
        m = exact(layer.m, data_parts, what + " m", model, layer.line)
        n = exact(layer.n, model_parts, what + " n", model, layer.line)
        planned.append(PlannedLayer(
            layer.name, *three_gemms(m, n, layer.k),
            fwd_comm=("ALLGATHER", exact(layer.m * layer.n * size, parallel.npus,
                                         what + " the output bytes", model, layer.line)),
            ig_comm=("REDUCESCATTER", exact(layer.m * layer.k * size, data_parts,
                                            what + " the input-gradient bytes", model,
                                            layer.line)),
            wg_comm=("ALLREDUCE", exact(layer.n * layer.k * size, model_parts,
                                        what + " the weight bytes", model, layer.line))))
    return planned


def _gemm_layers(model: ModelDescription, parallelism: str) -> list[GemmLayer | FixedLayer]:
    if not model.layers:
        kind = "transformer" if model.transformer else "dlrm"
        other = "TRANSFORMER" if model.transformer else "DLRM"
        raise InputError(f"parallelism {parallelism} splits a list of layers; this model is "
                         f"given as {kind}: use parallelism {other}", model.path)
    return model.layers
