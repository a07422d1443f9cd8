"""Model description + parallelism + compute model -> a 1.0 workload (its rows, timed).

Every distinct GEMM of the whole workload goes to the compute model in one
``durations_ns`` call, so an adapter in another process answers in a single round and a
cached SCALE-Sim answers each shape once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.base import ComputeModel, ComputeRequest
from orchestrator.errors import InputError, expected_one_of
from orchestrator.workload.generate.dlrm import dlrm_plan
from orchestrator.workload.generate.model_file import ModelDescription
from orchestrator.workload.generate.recipes import (
    Parallel, Plan, Work, data_parallel, hybrid, model_parallel)
from orchestrator.workload.generate.transformer import transformer_plan

PARALLELISMS: dict[str, Callable[[ModelDescription, Parallel], Plan]] = {
    "DATA": lambda model, parallel: Plan("DATA", data_parallel(model, parallel)),
    "DATA_REORDER": lambda model, parallel: Plan("DATA_REORDER", data_parallel(model, parallel)),
    "MODEL": lambda model, parallel: Plan("MODEL", model_parallel(model, parallel)),
    "HYBRID_DATA_MODEL": lambda model, parallel: Plan("HYBRID_DATA_MODEL",
                                                      hybrid(model, parallel, True)),
    "HYBRID_MODEL_DATA": lambda model, parallel: Plan("HYBRID_MODEL_DATA",
                                                      hybrid(model, parallel, False)),
    "TRANSFORMER": transformer_plan,
    "TRANSFORMER_NO_CHECKPOINTS": lambda model, parallel: transformer_plan(model, parallel,
                                                                           False),
    "DLRM": dlrm_plan,
}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a 1.0 workload file."""

    name: str
    fwd_cycles: int
    fwd_comm: tuple[str, int]
    ig_cycles: int
    ig_comm: tuple[str, int]
    wg_cycles: int
    wg_comm: tuple[str, int]
    update_delay: int


@dataclass(frozen=True, slots=True)
class GeneratedWorkload:
    header: str
    rows: list[Row]
    requests: int            # distinct GEMMs sent to the compute model
    # "<layer>_FWD|IG|WG" -> its GEMM, where that compute is exactly one GEMM: Chakra traces
    # carry it so an engine with a compute adapter can time the node online
    shapes: dict[str, ComputeRequest]


def plan_workload(model: ModelDescription, parallelism: str, parallel: Parallel) -> Plan:
    if parallelism not in PARALLELISMS:
        raise InputError("--parallelism: " + expected_one_of(parallelism, PARALLELISMS))
    if parallel.npus < 1:
        raise InputError(f"--npus: found {parallel.npus}; expected a whole number >= 1")
    unused = [flag for flag, given, users in (
        ("--packages", parallel.packages is not None, "HYBRID_"),
        ("--tp", parallel.tp is not None, "TRANSFORMER"),
        ("--pp", parallel.pp != 1, "TRANSFORMER")) if given and not parallelism.startswith(users)]
    if unused:
        raise InputError(f"{unused[0]} means nothing to parallelism {parallelism}")
    return PARALLELISMS[parallelism](model, parallel)


def generate(model: ModelDescription, parallelism: str, parallel: Parallel,
             compute: ComputeModel) -> GeneratedWorkload:
    plan = plan_workload(model, parallelism, parallel)
    distinct: dict[ComputeRequest, None] = {}
    for layer in plan.layers:
        for work in (layer.fwd, layer.ig, layer.wg):
            distinct.update((request, None) for _, request in work.requests)
    requests = list(distinct)
    answers = dict(zip(requests, compute.durations_ns(requests)))

    def cycles(work: Work) -> int:
        return work.cycles + sum(count * answers[request] for count, request in work.requests)

    rows = []
    shapes = {}
    for layer in plan.layers:
        for kind, work in (("FWD", layer.fwd), ("IG", layer.ig), ("WG", layer.wg)):
            if work.cycles == 0 and len(work.requests) == 1 and work.requests[0][0] == 1:
                shapes[f"{layer.name}_{kind}"] = work.requests[0][1]
        wg = cycles(layer.wg)
        delay = model.update_delay if model.wg_divisor is None else \
            (2 * wg + model.wg_divisor) // (2 * model.wg_divisor)     # round half up
        rows.append(Row(layer.name, cycles(layer.fwd), layer.fwd_comm, cycles(layer.ig),
                        layer.ig_comm, wg, layer.wg_comm, delay))
    return GeneratedWorkload(plan.header, rows, len(requests), shapes)
