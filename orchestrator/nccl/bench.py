"""Time one collective at one size on a platform, as nccl-tests times it on GPUs.

A size is turned into the smallest workload that runs just that collective on every NPU:
for 1.0 inputs a ``MICRO`` text workload (its weight-gradient collective), for 2.x inputs one
COMM_COLL node per NPU trace. It then runs through the same ``simulate`` as ``astra-cosim run``,
so every network backend and placement works, and the time is NPU 0's issue-to-finish of the
collective (the figure ``collectives.csv`` reports).

Sizes follow nccl-tests: the row's size is the collective's buffer as nccl-tests prints it
(all-gather: the gathered output; reduce-scatter: the input; all-to-all: the whole send
buffer), rounded down to whole elements (and, except for all-reduce, to a multiple of the
NPU count). ASTRA-sim sizes an all-gather by its per-NPU input, so it is given size / n.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from orchestrator.cosim.placement import AdapterPlacement
from orchestrator.errors import InputError, SimulationError, expected_one_of
from orchestrator.experiment.model import Experiment
from orchestrator.experiment.runner import simulate
from orchestrator.output.instruments import Instruments
from orchestrator.output.statistics import bus_factor, collectives_of
from orchestrator.workload import chakra


@dataclass(frozen=True, slots=True)
class Collective:
    name: str            # nccl-tests' spelling, e.g. all-reduce
    token: str           # 1.0 workload token and collectives.csv kind
    comm_type: int       # Chakra CollectiveCommType
    redop: str           # what nccl-tests prints in its redop column

    def bus_factor(self, npus: int) -> float:
        return bus_factor(self.token, npus)


_CT = chakra.CollectiveCommType
COLLECTIVES: dict[str, Collective] = {c.name: c for c in (
    Collective("all-reduce", "ALLREDUCE", _CT.ALL_REDUCE, "sum"),
    Collective("all-gather", "ALLGATHER", _CT.ALL_GATHER, "none"),
    Collective("reduce-scatter", "REDUCESCATTER", _CT.REDUCE_SCATTER, "sum"),
    Collective("all-to-all", "ALLTOALL", _CT.ALL_TO_ALL, "none"),
)}


def collective(name: str) -> Collective:
    """``all-reduce``, ``all_reduce``, ``allreduce`` and ``ALLREDUCE`` all name the same."""
    key = name.strip().lower().replace("_", "-")
    for candidate in COLLECTIVES.values():
        if key in (candidate.name, candidate.name.replace("-", "")):
            return candidate
    raise InputError("collective: " + expected_one_of(name, COLLECTIVES))


@dataclass(frozen=True, slots=True)
class Target:
    """What the collective runs on: system and network (paths or mappings) and backend."""

    label: str
    input_format: str                      # "v1" (text system, JSON network) or "v2"
    system: str | dict[str, Any]
    network: str | dict[str, Any]
    npus: int
    backend: str = "analytical"
    network_options: dict[str, Any] = field(default_factory=dict)
    placement: AdapterPlacement = field(default_factory=AdapterPlacement)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: nccl-tests' columns plus the exact ns."""

    size_bytes: int
    count: int
    type_name: str
    redop: str
    time_ns: int
    algbw_gb_per_s: float
    busbw_gb_per_s: float


def buffer_bytes(coll: Collective, size: int, type_bytes: int, npus: int) -> int:
    """The row's size in nccl-tests: whole elements; a multiple of n elements except for
    all-reduce. 0 when the size holds too few elements."""
    elements = size // type_bytes
    if coll.token != "ALLREDUCE":
        elements = elements // npus * npus
    return elements * type_bytes


def astra_bytes(coll: Collective, nccl_size: int, npus: int) -> int:
    """The size ASTRA-sim's collective takes for nccl-tests' buffer of ``nccl_size``."""
    return nccl_size // npus if coll.token == "ALLGATHER" else nccl_size


def write_workload(coll: Collective, platform: Target, size: int, folder: str) -> str:
    """The one-collective workload for ``size`` ASTRA-sim bytes: a file (1.0) or a trace
    prefix (2.x)."""
    name = f"{coll.token.lower()}_{size}"
    if platform.input_format == "v1":
        path = os.path.join(folder, f"{name}.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"MICRO\n1\n{name}\t-1\t0\tNONE\t0\t0\tNONE\t0\t0\t{coll.token}\t"
                         f"{size}\t1\n")
        return path
    prefix = os.path.join(folder, name)
    node = chakra.pb.Node(id=0, name=name, type=chakra.NodeType.COMM_COLL_NODE,
                          attr=[chakra.make_attr("is_cpu_op", False),
                                chakra.make_attr("comm_type", coll.comm_type),
                                chakra.make_attr("comm_size", size)])
    for npu in range(platform.npus):
        chakra.write_trace(chakra.trace_path(prefix, npu), [node])
    return prefix


def time_collective(coll: Collective, platform: Target, nccl_size: int, type_name: str,
                    type_bytes: int, folder: str) -> Row:
    """Run the collective once at ``nccl_size`` bytes (nccl-tests' size) and time it."""
    size = astra_bytes(coll, nccl_size, platform.npus)
    workload = write_workload(coll, platform, size, folder)
    instruments = Instruments()
    simulate(Experiment(name=f"{coll.name}-{nccl_size}", workload=workload,
                        system=platform.system, network=platform.network,
                        network_backend=platform.backend,
                        network_options=platform.network_options,
                        placement=platform.placement), instruments)
    rows = collectives_of(instruments.recorder)
    if len(rows) != 1:
        raise SimulationError(f"{coll.name} of {nccl_size} bytes: NPU 0 recorded {len(rows)} "
                              "collectives; expected exactly one")
    time_ns = rows[0].duration_ns
    algbw = nccl_size / time_ns if time_ns else 0.0          # bytes/ns = GB/s (1e9)
    return Row(nccl_size, nccl_size // type_bytes, type_name, coll.redop, time_ns, algbw,
               algbw * coll.bus_factor(platform.npus))
