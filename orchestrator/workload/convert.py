"""ASTRA-sim 1.0 text workload -> Chakra execution traces (``astra-cosim trace convert``).

The training loop itself is the converter: its steps become a dependency graph. A compute step
is a COMP node after the previous compute (or blocking collective); ``Issue`` adds a
COMM_COLL node after that compute; a blocking collective becomes the node later steps follow;
``Wait`` makes the next node depend on the awaited collective. So every registered loop,
including user-added ones, converts without converter code of its own, and the graph has
exactly the ordering constraints the loop states.

Compute stays in the right unit: 1.0 counts cycles (= ns). ``duration_micros`` gets the time
rounded to whole microseconds (what other ASTRA-sim 2.x readers use) and the exact ns go into
the ``duration_ns`` attribute, which astra-cosim prefers. Chakra's own text converter copies
cycles into ``duration_micros`` and so makes compute 1000x too long (upstream issue #207).

What does not carry over, because 2.x has no such notion: 1.0's 1-cycle state transitions and
per-layer update delays (a 1.0 run is longer by those), and 1.0's freedom to run several
collectives at once (2.x runs one collective per NPU at a time).
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.units import scale_float32
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node
from orchestrator.workload.layer import Layer
from orchestrator.workload.loops.base import (
    Compute, Issue, IssueBlocking, TrainingLoop, Wait)
from orchestrator.workload.text_format import TextWorkload

_COMM_TYPES = {"ALLREDUCE": chakra.CollectiveCommType.ALL_REDUCE,
               "ALLGATHER": chakra.CollectiveCommType.ALL_GATHER,
               "REDUCESCATTER": chakra.CollectiveCommType.REDUCE_SCATTER,
               "ALLTOALL": chakra.CollectiveCommType.ALL_TO_ALL}
_KIND_NAME = {"fwd": "FWD", "ig": "IG", "wg": "WG"}


@dataclass(frozen=True, slots=True)
class Conversion:
    nodes: list[Node]
    compute_ns: int
    collectives: int


def convert_workload(workload: TextWorkload, loop: TrainingLoop, num_passes: int = 1,
                     compute_scale: float = 1.0, comm_scale: float = 1.0,
                     dim_sizes: list[int] | None = None) -> Conversion:
    """One NPU's graph (every NPU of a 1.0 workload runs the same one). ``dim_sizes``: the
    network's logical dimensions, when known; a collective spanning none of them with more
    than one NPU is left out, as a 1.0 run skips it (a 2.x run would refuse it: upstream
    hangs on it)."""
    nodes: list[Node] = []
    last: int | None = None              # the node the next compute follows
    waits: list[int] = []                # collectives the next node must wait for
    issued: dict[tuple[int, str], int] = {}
    compute_total = 0

    def add(node: Node, deps: list[int]) -> int:
        node.id = len(nodes)
        node.data_deps.extend(sorted(set(deps)))
        nodes.append(node)
        return node.id

    def prior() -> list[int]:
        return ([last] if last is not None else []) + waits

    for step in loop.run(num_passes):
        kind = type(step)
        if kind is Compute:
            cycles = scale_float32(getattr(step.layer, f"{step.kind}_compute_cycles"),
                                   compute_scale)
            compute_total += cycles
            node = Node(name=f"{step.layer.name}_{_KIND_NAME[step.kind]}",
                        type=chakra.NodeType.COMP_NODE,
                        duration_micros=(cycles + 500) // 1000)
            node.attr.extend([chakra.make_attr("is_cpu_op", False),
                              chakra.make_attr(chakra.DURATION_NS, cycles)])
            last = add(node, prior())
            waits = []
        elif kind is Issue or kind is IssueBlocking:
            node = _collective(step.layer, step.kind, loop, comm_scale, dim_sizes)
            if node is None:
                continue
            node_id = add(node, prior())
            waits = []
            issued[(step.layer.index, step.kind)] = node_id
            if kind is IssueBlocking:
                last = node_id
        elif kind is Wait:
            awaited = issued.get((step.layer.index, step.kind))
            if awaited is not None:
                waits.append(awaited)
    return Conversion(nodes, compute_total,
                      sum(1 for n in nodes if n.type == chakra.NodeType.COMM_COLL_NODE))


def _collective(layer: Layer, kind: str, loop: TrainingLoop, comm_scale: float,
                dim_sizes: list[int] | None) -> Node | None:
    spec = getattr(layer, f"{kind}_comm")
    if spec.is_none:
        return None
    involved = list(loop.layer_dimensions(layer, kind))
    spanned = involved if dim_sizes is None else \
        [flag for flag, size in zip(involved, dim_sizes) if size > 1]
    if not any(spanned):
        return None
    node = Node(name=f"{layer.name}_{_KIND_NAME[kind]}_{spec.kind}",
                type=chakra.NodeType.COMM_COLL_NODE)
    node.attr.extend([chakra.make_attr("is_cpu_op", False),
                      chakra.make_attr("comm_type", int(_COMM_TYPES[spec.kind])),
                      chakra.make_attr("comm_size", scale_float32(spec.size_bytes, comm_scale)),
                      chakra.make_attr("involved_dim", involved)])
    return node
