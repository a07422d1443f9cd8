"""Chakra nodes of one pipeline rank: its schedule of forward / backward blocks, SEND/RECV
between consecutive model stages, and the data-parallel tail (gradient reduction, optimizer).

Compute and collectives of a rank form one chain in schedule order (a GPU stream issuing
kernels and blocking NCCL calls, as Megatron-LM of 2021 does), except a collective marked
``overlap``, which runs beside the next op and joins the chain after it; a RECV has no dependency (it is
posted early and holds no resource) and gates the first op of its block; a SEND follows the
last op of its block and, unless sends block (Megatron's default), holds nothing back, so a
rank runs on while its activations travel.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node
from orchestrator.workload.generate.llm.ops import Op
from orchestrator.workload.generate.llm.schedule import schedule

COLLECTIVE_TYPES = {
    "ALLREDUCE": chakra.CollectiveCommType.ALL_REDUCE,
    "ALLGATHER": chakra.CollectiveCommType.ALL_GATHER,
    "REDUCESCATTER": chakra.CollectiveCommType.REDUCE_SCATTER,
    "ALLTOALL": chakra.CollectiveCommType.ALL_TO_ALL,
}

Blocks = Callable[[str, int, int], list[Op]]


class RankTrace:
    """Builds one rank's node list; ``groups`` maps a group kind (tp, dp, ...) to the
    ``pg_name`` of this rank's communicator group of that kind ('' = the whole network)."""

    def __init__(self, groups: dict[str, str] | None = None) -> None:
        self.nodes: list[Node] = []
        self.last: int | None = None
        self._side: list[list[int]] = []       # [node id, ops until it joins the chain]
        self.groups = groups or {}

    def _node(self, name: str, kind: int, deps: list[int]) -> Node:
        node = Node(id=len(self.nodes), name=name, type=kind)
        node.data_deps.extend(deps)
        self.nodes.append(node)
        return node

    def _chain(self, extra: list[int]) -> list[int]:
        deps = [] if self.last is None else [self.last]
        for side in self._side:
            side[1] -= 1
            if side[1] == 0:
                extra = [*extra, side[0]]
        self._side = [side for side in self._side if side[1] > 0]
        return deps + [d for d in extra if d not in deps]

    def op(self, op: Op, extra_deps: list[int] = ()) -> int:
        if op.is_comm:
            node = self._node(op.name, chakra.NodeType.COMM_COLL_NODE,
                              self._chain(list(extra_deps)))
            node.attr.extend([chakra.make_attr("is_cpu_op", False),
                              chakra.make_attr("comm_type", COLLECTIVE_TYPES[op.coll]),
                              chakra.make_attr("comm_size", op.size)])
            pg_name = self.groups.get(op.group, "")
            if pg_name:
                node.attr.append(chakra.make_attr("pg_name", pg_name))
            if op.overlap:
                # runs beside the next op; the op after that waits for both
                self._side.append([node.id, 2])
                return node.id
        else:
            node = self._node(op.name, chakra.NodeType.COMP_NODE, self._chain(list(extra_deps)))
            node.duration_micros = op.ns // 1000
            node.attr.extend([chakra.make_attr("is_cpu_op", False),
                              chakra.make_attr(chakra.DURATION_NS, op.ns)])
            if op.gemm is not None:
                node.attr.extend([chakra.make_attr("gemm_m", op.gemm[0]),
                                  chakra.make_attr("gemm_n", op.gemm[1]),
                                  chakra.make_attr("gemm_k", op.gemm[2])])
        self.last = node.id
        return node.id

    def send(self, name: str, dst: int, size: int, tag: int, blocking: bool = False) -> int:
        node = self._node(name, chakra.NodeType.COMM_SEND_NODE, self._chain([]))
        node.attr.extend([chakra.make_attr("is_cpu_op", False),
                          chakra.make_attr("comm_dst", dst), chakra.make_attr("comm_size", size),
                          chakra.make_attr("comm_tag", tag)])
        if blocking:
            self.last = node.id
        return node.id

    def recv(self, name: str, src: int, size: int, tag: int) -> int:
        node = self._node(name, chakra.NodeType.COMM_RECV_NODE, [])
        node.attr.extend([chakra.make_attr("is_cpu_op", False),
                          chakra.make_attr("comm_src", src), chakra.make_attr("comm_size", size),
                          chakra.make_attr("comm_tag", tag)])
        return node.id


def p2p_tag(backward: bool, micro_batch: int, sender_stage: int, stages: int) -> int:
    """One tag per message: direction, micro-batch and the sending model stage."""
    return ((micro_batch * 2 + int(backward)) * stages + sender_stage) % (1 << 31)


def pipeline_rank(trace: RankTrace, stage: int, pp: int, micro_batches: int, chunks: int,
                  blocks: Blocks, act_bytes: int, rank_of_stage: Callable[[int], int],
                  blocking_sends: bool = False) -> None:
    """Emit pipeline rank ``stage``'s schedule; ``blocks(kind, mb, chunk)`` gives the ops of
    one block, ``rank_of_stage(s)`` the trace rank of pipeline rank s (peers of SEND/RECV).
    With ``blocking_sends`` the rank waits for each send to arrive before its next op, as
    Megatron-LM's batched p2p calls do unless their communication is overlapped."""
    stages = pp * chunks
    for kind, mb, chunk in schedule(stage, micro_batches, pp, chunks):
        model_stage = chunk * pp + stage
        backward = kind == "B"
        peer_stage = model_stage + (1 if backward else -1)
        recv = None
        if 0 <= peer_stage < stages:
            recv = trace.recv(f"recv_{kind}_mb{mb}_s{model_stage}",
                              rank_of_stage(peer_stage % pp), act_bytes,
                              p2p_tag(backward, mb, peer_stage, stages))
        for index, op in enumerate(blocks(kind, mb, chunk)):
            trace.op(op, [recv] if index == 0 and recv is not None else [])
        next_stage = model_stage + (-1 if backward else 1)
        if 0 <= next_stage < stages:
            trace.send(f"send_{kind}_mb{mb}_s{model_stage}", rank_of_stage(next_stage % pp),
                       act_bytes, p2p_tag(backward, mb, model_stage, stages), blocking_sends)
